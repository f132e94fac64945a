// Page functions the Python scripts of tests/e2e/pyscript call (main=helpers.js).
window.rejectSoon = (message) => new Promise((_, reject) => setTimeout(() => reject(new Error(message)), 10));
window.resolveSoon = (value) => new Promise((resolve) => setTimeout(() => resolve(value), 10));
window.throwNow = (message) => {
  throw new TypeError(message);
};

/**
 * PyScript's MPWorker or PyWorker for the page's `type`, and its options:
 * the interpreter from the local npm package (PyScript's JS API takes it as
 * `version`, a URL; the script tags take the config's `interpreter`), and
 * the service worker on the service-worker run.
 */
export async function pyWorkerOf({ MPWorker, PyWorker }, q) {
  const type = q.get("type") || "mpy";
  // PyScript's MPWorker / PyWorker (@pyscript/core 0.7 src/core.js) awaits
  // `configs.get(type).plugins`, a function it never calls, so it does not
  // wait for the type's hooks (registered once the plugins loaded). Called
  // right after core.js loads, it may start a worker without them: no
  // `pyscript` package in it ("ImportError: no module named 'pyscript'",
  // printed, not raised), no exports, and the page's first call fails. Seen
  // in stock PyScript as in ours (more often on a busy machine). core.js
  // defines the <type>-script element right after it registered the hooks,
  // so wait for that.
  await customElements.whenDefined(`${type}-script`);
  const config = await (await fetch(`/tests/e2e/pyscript/${type}.json`)).json();
  const options = { config: `/tests/e2e/pyscript/${type}.json`, version: new URL(config.interpreter, location.href).href };
  if (q.get("sw")) options.serviceWorker = "/tests/e2e/pyscript/sw.js";
  return { W: type === "py" ? PyWorker : MPWorker, options };
}

// Promises that reject with what is not an Error made in this realm: a
// DOMException without a stack (as the browser's own, e.g. getUserMedia's),
// a string, a plain object (issue 13: each must raise in Python with a name
// and a message).
function stackless(e) {
  delete e.stack;
  return e;
}
window.rejectWith = (kind) => new Promise((_, reject) => setTimeout(() => reject(
  kind === "dom" ? stackless(new DOMException("made on the page", "AbortError"))
    : kind === "string" ? "a plain string reason"
      : { name: "CustomReason", message: "a plain object reason" }), 10));

// probes.py: requests the page served so far for the page's worker script
// (stats().served of its xworker, worker-bridge's compat Worker).
window.served = () => document.querySelector("script[worker]").xworker.stats().served;
