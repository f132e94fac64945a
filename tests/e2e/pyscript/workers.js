// MPWorker / PyWorker from @pyscript/core (main=workers.js): a real Worker
// with `sync`, exports, the FAQ deadlock, user messages beside the bridge,
// terminate().
export default async ({ MPWorker, PyWorker }, q) => {
  const type = q.get("type") || "mpy";
  const W = type === "py" ? PyWorker : MPWorker;
  // The interpreter from the local npm package: PyScript's JS API takes it
  // as `version` (a URL), the script tags from the config's `interpreter`.
  const config = await (await fetch(`./${type}.json`)).json();
  const options = { config: `./${type}.json`, version: new URL(config.interpreter, location.href).href };
  if (q.get("sw")) options.serviceWorker = "./sw.js";
  // PyScript's MPWorker / PyWorker resolve to the worker once it is ready.
  const w = await W("./exports.py", options);
  report("isWorker", w instanceof Worker);
  const seen = [];
  w.addEventListener("message", (e) => seen.push(e.data));
  w.sync.add = (a, b) => a + b;
  w.sync.main_task = async () => await w.sync.worker_task();
  report("double", await w.sync.double(21));
  report("add", await w.sync.add_via_main(2, 3));
  report("faq", await w.sync.faq());
  // User messages both ways, with bridge calls in between.
  const pong = new Promise((resolve) => w.addEventListener("message", (e) => e.data === "pong:ping" && resolve()));
  w.postMessage("ping");
  report("between", await w.sync.double(1));
  await pong;
  report("seen", seen);
  // terminate(): a pending call rejects at once.
  const pending = w.sync.double(2);
  w.terminate();
  try {
    await pending;
    report("terminated", "resolved");
  } catch (e) {
    report("terminated", e.name);
  }
  report("done", true);
};
