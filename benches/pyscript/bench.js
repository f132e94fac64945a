// The page side of benches/pyscript/run.mjs (tests/e2e/pyscript/page.html?main=/benches/pyscript/bench.js):
// starts the bench worker with PyScript's MPWorker / PyWorker and runs the
// cases the query names; results go to window.__py.bench.
import { pyWorkerOf } from "/tests/e2e/pyscript/helpers.js";

// `workerOf` picks the constructor and its options: PyScript's (pyWorkerOf)
// by default, worker-bridge/python's from ours.js.
export default async (core, q, workerOf = pyWorkerOf) => {
  const { W, options } = await workerOf(core, q);
  const t0 = performance.timeOrigin + performance.now();
  const w = await W("/benches/pyscript/bench.py", options);
  const first = await w.sync.first_line();
  const out = { start: first - t0 };
  // The start's parts (bench.py's timeline): page call to the worker's
  // global, worker to its interpreter fetch, that fetch to the first line.
  const [origin, fetched] = await w.sync.timeline();
  if (typeof fetched === "number") {
    out.startWorker = origin - t0;
    out.startBoot = fetched - origin;
    out.startInterp = first - fetched;
  }
  w.sync.bench = (x) => x;
  const n = Number(q.get("n") || 2000);
  const dom = Number(q.get("dom") || 1000);
  const cases = (q.get("cases") || "fn,title,sync,dom").split(",");
  // warm=1 (run.mjs --warm): every case runs once in full, untimed, before
  // any is timed, so each row is the interpreter's steady state rather than
  // its first thousands of operations after start-up (its wasm and the JS on
  // the path still being compiled; docs/benchmarks.md, stop 20).
  if (q.get("warm")) for (const kind of cases) await w.sync.run(kind, kind === "dom" ? dom : n);
  for (const kind of cases) {
    const count = kind === "dom" ? dom : n;
    await w.sync.run(kind, Math.max(1, count >> 4)); // warm-up
    out[kind] = (await w.sync.run(kind, count)) / count * 1000; // us per op
  }
  w.terminate();
  report("bench", out);
  report("done", true);
};
