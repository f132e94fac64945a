// A worker for tests/e2e/deadlock.test.mjs, started by the page module
// pages/main/deadlock.js (no runCases: the page drives every scenario).
// `run(name, ...args)` calls the page's `sync[name]` synchronously, so the
// worker is blocked in it while the page's handler runs, and reports how it
// ended: the page sees both sides of a deadlock, a time-out or an interrupt.
import { bridge, DeadlockError, TimeoutError, InterruptError, ClosedError } from "/bridge-js/src/worker.js";

function describeError(e) {
  return {
    name: e?.name,
    message: e?.message,
    deadlock: e instanceof DeadlockError,
    timeout: e instanceof TimeoutError,
    interrupt: e instanceof InterruptError,
    closed: e instanceof ClosedError,
  };
}

const { sync, withTimeout } = await bridge();

const call = (name, args) => {
  const t0 = performance.now();
  try {
    return { value: sync[name](...args), ms: performance.now() - t0 };
  } catch (e) {
    return { error: describeError(e), ms: performance.now() - t0 };
  }
};

// The FAQ: sync.worker_task = () => "ok"; sync.main_task();
sync.worker_task = () => "ok";
sync.worker_async_task = async () => "later";
sync.faq = () => call("main_task", []);

sync.run = (name, ...args) => call(name, args);
sync.runWithTimeout = (ms, name, n) => {
  const first = withTimeout(ms, () => call(name, []));
  let ok = 0;
  for (let i = 0; i < n; i++) if (sync.inc(i) === i + 1) ok++;
  return { first, ok };
};
sync.calls = (n) => {
  let ok = 0;
  for (let i = 0; i < n; i++) if (sync.inc(i) === i + 1) ok++;
  return ok;
};
sync.add = (a, b) => a + b;
sync.never = () => new Promise(() => {});
sync.closeSoon = () => {
  setTimeout(() => self.close(), 0);
  return true;
};
