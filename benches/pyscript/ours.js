// The page of the "ours" build of benches/pyscript/run.mjs: worker-bridge/python's
// MPWorker / PyWorker run benches/pyscript/bench.py through bench.js, as the
// PyScript pages do with PyScript's (?type=mpy|py, n, dom, cases).
// (`src`: another copy of bridge-js/src's python.js, run.mjs's ours@<dir>.)
import bench from "./bench.js";

window.__py = { build: "ours" };
window.report = (key, value) => {
  window.__py[key] = value;
  return true;
};
const q = new URLSearchParams(location.search);
const { MPWorker, PyWorker } = await import(q.get("src") || "/bridge-js/src/python.js");
bench({ MPWorker, PyWorker }, q, async ({ MPWorker, PyWorker }, q) => ({
  W: q.get("type") === "py" ? PyWorker : MPWorker,
  options: {},
})).catch((e) => report("mainError", String(e && e.stack || e)));
