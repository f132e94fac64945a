// MPWorker / PyWorker from @pyscript/core (main=workers.js): a real Worker
// with `sync`, exports, the FAQ deadlock, user messages beside the bridge,
// terminate().
import { pyWorkerOf } from "./helpers.js";

export default async (core, q) => {
  const { W, options } = await pyWorkerOf(core, q);
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
