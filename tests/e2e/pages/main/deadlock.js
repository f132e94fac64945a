// Page side of tests/e2e/deadlock.test.mjs. The scenario is this module's own
// query (`deadlock.js?case=faq`); it starts the workers it needs
// (workers/deadlock.js) and returns what both sides observed, as JSON.
import { serving } from "/bridge-js/src/main-core.js";

const WORKER = "/tests/e2e/workers/deadlock.js";
const caseName = new URL(import.meta.url).searchParams.get("case");

function describeError(e) {
  if (e == null) return null;
  return { name: e.name, message: e.message, isError: e instanceof Error };
}

// Main's handler records how its own await ended.
function recording(fn) {
  const seen = { error: null, ms: -1 };
  const handler = async (...args) => {
    const t0 = performance.now();
    try {
      return await fn(...args);
    } catch (e) {
      seen.ms = performance.now() - t0;
      seen.error = describeError(e);
      throw e;
    }
  };
  return [handler, seen];
}

// Polls `cond` with a deadline (no fixed sleeps).
async function until(cond, ms = 10_000) {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${ms} ms: ${cond}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const servingOf = (w) => serving().filter((c) => c.worker === w._ep.wid).map((c) => c.label);

async function caught(p) {
  const t0 = performance.now();
  try {
    return { value: await p, ms: performance.now() - t0 };
  } catch (e) {
    return { error: describeError(e), closed: e?.name === "ClosedError", ms: performance.now() - t0 };
  }
}

const cases = {
  async faq({ BridgeWorker }) {
    const w = new BridgeWorker(WORKER, { type: "module" });
    w.sync.main_task = async () => await w.sync.worker_task();
    const r = await w.sync.faq();
    const left = servingOf(w);
    w.terminate();
    return { worker: r, left };
  },

  async faqAsync({ BridgeWorker }) {
    const w = new BridgeWorker(WORKER, { type: "module" });
    w.sync.inc = (i) => i + 1;
    const [handler, seen] = recording(() => w.sync.worker_async_task());
    w.sync.main_task = handler;
    const r = await w.sync.run("main_task");
    const after = await w.sync.calls(1000);
    w.terminate();
    return { worker: r, main: seen, after };
  },

  async strict({ BridgeWorker }) {
    const w = new BridgeWorker(WORKER, { type: "module", reentrant: false });
    const [handler, seen] = recording(() => w.sync.worker_task());
    w.sync.main_task = handler;
    const r = await w.sync.faq();
    const unnested = await w.sync.worker_task();
    w.terminate();
    return { worker: r, main: seen, unnested };
  },

  async cycle({ BridgeWorker }) {
    const a = new BridgeWorker(WORKER, { type: "module", reentrant: false, name: "A" });
    const b = new BridgeWorker(WORKER, { type: "module", reentrant: false, name: "B" });
    a.sync.inc = b.sync.inc = (i) => i + 1;
    await Promise.all([a.ready, b.ready]);
    const [hb, seenB] = recording(() => a.sync.worker_task());
    const [ha, seenA] = recording(() => b.sync.run("b"));
    a.sync.a = ha;
    b.sync.b = hb;
    const t0 = performance.now();
    const r = await a.sync.run("a");
    const ms = performance.now() - t0;
    const left = [...servingOf(a), ...servingOf(b)];
    const after = [await a.sync.worker_task(), await b.sync.calls(1000)];
    a.terminate();
    b.terminate();
    return { worker: r, b: seenB, a: seenA, ms, left, after };
  },

  async timeout({ BridgeWorker }) {
    const w = new BridgeWorker(WORKER, { type: "module" });
    w.sync.inc = (i) => i + 1;
    let lateSent = false;
    w.sync.slow = () => new Promise((r) => setTimeout(() => {
      lateSent = true;
      r("late");
    }, 300));
    const r = await w.sync.runWithTimeout(50, "slow", 1000);
    await until(() => servingOf(w).length === 0);
    // Calls keep matching while the late reply arrives and is dropped.
    let calls = 0;
    let wrong = 0;
    while (!lateSent) {
      if ((await w.sync.add(calls, 1)) !== calls + 1) wrong++;
      calls++;
    }
    const afterLate = await w.sync.calls(1000);
    // Main's own per-call time-out.
    const mainTimeout = await caught(w.withTimeout(50, () => w.sync.never()));
    const plain = await w.sync.add(2, 2);
    w.terminate();
    return { worker: r, wrong, afterLate, mainTimeout, plain };
  },

  async interrupt({ BridgeWorker }) {
    const w = new BridgeWorker(WORKER, { type: "module" });
    w.sync.inc = (i) => i + 1;
    let resolveLate;
    w.sync.wait = () => new Promise((r) => (resolveLate = r));
    const before = w.interrupt();
    const p = w.sync.run("wait");
    await until(() => resolveLate !== undefined);
    const t0 = performance.now();
    const interrupted = w.interrupt("stop");
    const r = await p;
    const ms = performance.now() - t0;
    resolveLate("late");
    const after = await w.sync.calls(1000);
    const left = servingOf(w);
    w.terminate();
    return { before, interrupted, worker: r, ms, after, left };
  },

  async terminate({ BridgeWorker }) {
    const w = new BridgeWorker(WORKER, { type: "module" });
    await w.ready;
    const pending = [w.sync.never(), w.sync.never()].map(caught);
    w.terminate();
    return { pending: await Promise.all(pending), afterwards: await caught(w.sync.add(1, 2)) };
  },

  async selfClose({ BridgeWorker }) {
    const w = new BridgeWorker(WORKER, { type: "module" });
    await w.ready;
    const pending = [w.sync.never(), w.sync.never()].map(caught);
    await w.sync.closeSoon();
    const out = { pending: await Promise.all(pending), afterwards: await caught(w.sync.add(1, 2)) };
    w.terminate();
    return out;
  },

  // The worker dies without BridgeWorker.terminate(): main notices through
  // the worker's lifetime Web Lock. `how`: "terminate" (its Worker object)
  // or "close" (self.close() past the bridge's wrapper).
  async unseenTerminate(ctx) {
    return unseen(ctx, (w) => w.worker.terminate());
  },
  async unseenClose(ctx) {
    return unseen(ctx, (w) => w.sync.closeUnseen());
  },
  // Terminated while blocked in Atomics.wait (a sync call main is serving).
  async unseenBlocked(ctx) {
    return unseen(ctx, (w) => w.worker.terminate(), true);
  },

  async crash({ BridgeWorker }) {
    const w = new BridgeWorker("/tests/e2e/workers/deadlock-crash.js", { type: "module" });
    // Keep the (expected) uncaught error from also being reported on the page.
    // On the service-worker transport the Worker is made once the service
    // worker controls the page: wait for it (its script loads after that).
    const quiet = (worker) => worker.addEventListener("error", (e) => e.preventDefault());
    if (w.worker !== null) quiet(w.worker);
    else until(() => w.worker !== null).then(() => quiet(w.worker), () => {});
    const pending = [w.sync.never(), w.sync.add(1, 2)].map(caught);
    const ready = await caught(w.ready);
    w.terminate();
    return { pending: await Promise.all(pending), ready };
  },
};

// Never-hang bound of the unseen-death cases: far above the detection time.
const UNSEEN_LIMIT_MS = 20_000;

async function unseen({ BridgeWorker }, kill, blocked = false) {
  const w = new BridgeWorker(WORKER, { type: "module" });
  await w.ready;
  await until(() => w._unwatch !== null); // main queues for the worker's lifetime lock
  let pending;
  if (blocked) {
    w.sync.hang = () => new Promise(() => {});
    pending = [w.sync.run("hang"), w.sync.never()].map(caught);
    await until(() => servingOf(w).length === 1);
  } else {
    pending = [w.sync.never(), w.sync.never()].map(caught);
  }
  const t0 = performance.now();
  kill(w);
  const limit = new Promise((r) => setTimeout(() => r("hung"), UNSEEN_LIMIT_MS));
  const settled = await Promise.race([Promise.all(pending), limit]);
  const detectMs = performance.now() - t0;
  const out = { pending: settled, detectMs, afterwards: settled === "hung" ? null : await caught(w.sync.add(1, 2)) };
  w.terminate();
  return out;
}

export default async function main(ctx) {
  if (!Object.hasOwn(cases, caseName)) throw new Error(`no case "${caseName}" in pages/main/deadlock.js`);
  return cases[caseName](ctx);
}
