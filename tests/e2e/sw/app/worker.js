// The worker of tests/e2e/sw.test.mjs: cases the page runs with
// `w.sync.run(name, ...args)`; they call the main thread synchronously.
import { bridge } from "/bridge-js/src/worker.js";

const b = await bridge();
const { sync, window } = b;

function errorInfo(e) {
  if (e instanceof Error) {
    return { isError: true, name: e.name, message: e.message, ctor: e.constructor.name, code: e.code };
  }
  return { isError: false, value: e };
}

function pattern(n, seed) {
  const a = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    a[i] = x >>> 24;
  }
  return a;
}

const cases = {
  describe() {
    return { transport: b.transport, native: b.native, crossOriginIsolated: self.crossOriginIsolated, hasSAB: typeof SharedArrayBuffer };
  },
  calls() {
    return { add: sync.add(20, 22), tag: sync.tag() };
  },
  dom() {
    const doc = window.document;
    const p = doc.getElementById("out");
    p.textContent = "written by the worker";
    const li = doc.createElement("li");
    li.textContent = "appended";
    doc.body.appendChild(li);
    return { title: doc.title, text: p.textContent, sameDoc: window.document === doc, items: doc.querySelectorAll("li").length, href: window.location.pathname };
  },
  nested() {
    return sync.main_task();
  },
  big(mib) {
    const arg = pattern(mib << 20, 7);
    const back = sync.bigBack(arg);
    let bad = -1;
    for (let i = 0; i < arg.length; i++) {
      if (back[i] !== ((arg[i] + 1) & 255)) { bad = i; break; }
    }
    return { sent: arg.length, received: back.length, firstMismatch: bad };
  },
  loop(n) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const r = sync.inc(i);
      if (r !== i + 1) throw new Error(`call ${i} returned ${r}`);
    }
    return { calls: n, ms: performance.now() - t0 };
  },
  tagged(n) {
    // Many calls that each carry this tab's tag: a crossed message shows.
    const tag = sync.tag();
    for (let i = 0; i < n; i++) {
      const r = sync.add(tag, String(i));
      if (r !== tag + i) throw new Error(`call ${i} of ${tag} returned ${r}`);
    }
    return { tag, calls: n };
  },
  mainThrows() {
    try {
      sync.fails();
      return { threw: false };
    } catch (e) {
      return { threw: true, error: errorInfo(e) };
    }
  },
  slow(ms) {
    return sync.slow(ms);
  },
  touchWindow() {
    try {
      return { ok: true, value: typeof window.document };
    } catch (e) {
      return { ok: false, error: errorInfo(e) };
    }
  },
  tryCall() {
    const t0 = performance.now();
    try {
      return { ok: true, value: sync.add(1, 2), ms: performance.now() - t0 };
    } catch (e) {
      return { ok: false, error: errorInfo(e), ms: performance.now() - t0 };
    }
  },
};

sync.run = (name, ...args) => {
  if (!Object.hasOwn(cases, name)) throw new Error(`no case ${name}`);
  return cases[name](...args);
};
sync.worker_task = () => "worker_task result";
sync.workerThrows = () => {
  const e = new RangeError("worker says no");
  e.code = "E_WORKER";
  throw e;
};
sync.bigIn = (bytes) => bytes.length;
