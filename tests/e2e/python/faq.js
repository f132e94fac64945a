// PyScript FAQ "Workers via JavaScript", as written there, with this package:
// the default stdout forwarding (console.log with an [mpy]/[py] prefix) and
// a call made right after the constructor, before the script defined it.
import { MPWorker, PyWorker } from "/bridge-js/src/python.js";

const q = new URLSearchParams(location.search);
const kind = q.get("kind") === "py" ? "py" : "mpy";
const state = { result: null, plain: null, error: null, finished: false };
window.__faq = state;
// `sw`: the service-worker run of the suite (see run.js).
const options = q.has("sw") ? { serviceWorker: { url: "/bridge-js/src/sw.js", scope: "/" } } : undefined;
try {
  // `factory`: PyScript's form, `await MPWorker(url, options)` (an async factory).
  const worker = q.has("factory")
    ? await (kind === "py" ? PyWorker : MPWorker)("./worker.py", options)
    : kind === "py" ? new PyWorker("./worker.py", options) : new MPWorker("./worker.py", options);
  state.isInstance = worker instanceof (kind === "py" ? PyWorker : MPWorker);

  // Call Python functions from JavaScript.
  const result = await worker.sync.python_function(20, 22);

  state.result = result;
  state.plain = Object.getPrototypeOf(result) === Object.prototype;
  document.getElementById("status").textContent = "done";
} catch (e) {
  state.error = `${e.name}: ${e.message}`;
}
state.finished = true;
