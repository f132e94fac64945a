// The page of tests/e2e/rust.test.mjs: a BridgeWorker whose worker code is
// Rust (bridge_wasm::embed::selftest, loaded by the bootstrap
// bridge-js/test/fixtures/rust-worker.js from bridge-js/pkg/full).
import { BridgeWorker } from "/bridge-js/src/main.js";

const state = { done: false, error: null, results: {} };
window.__e2e = state;

class TestClass {
  constructor(v) {
    this.value = v;
  }
}

async function main() {
  globalThis.testDoc = { title: "T" };
  globalThis.testObj = { list: [1, 2, 3], method(a, b) { return a * b; } };
  globalThis.TestClass = TestClass;
  // `?sw`: the service-worker transport (a page without COOP/COEP; the
  // worker script in /bridge-js/ must be inside the scope too).
  // `?sw&scope=...` another scope (the error test: a worker outside it).
  const q = new URLSearchParams(location.search);
  const sw = q.has("sw") ? { serviceWorker: { url: "/bridge-js/src/sw.js", scope: q.get("scope") ?? "/" } } : {};
  const w = new BridgeWorker("/bridge-js/test/fixtures/rust-worker.js", { type: "module", ...sw });
  const seen = {};
  w.sync.checkout = (order, currency) => {
    seen.order = order;
    return {
      order_id: order.id,
      total: order.items.reduce((s, it) => s + it.qty * it.price, 0),
      lines: order.items.map((it) => `${it.qty} x ${it.name}`),
      echo: order,
      seen_note: `in ${currency}`,
    };
  };
  w.sync.report = () => {};
  w.sync.failTypeError = (a, b) => { throw new TypeError(`bad input: ${a} ${b}`); };
  w.sync.failValue = () => { throw new Error("plain failure"); };
  w.sync.giveString = () => "not a number";
  w.sync.throw42 = () => { throw 42; }; // eslint-disable-line no-throw-literal
  w.sync.inc = (i) => i + 1;
  w.sync.isTestDoc = (d) => d === globalThis.testDoc;
  w.sync.callBack = async (name, x) => (await w.sync[name](x, 1)) + 1000;
  await w.ready;
  const r = state.results;
  r.transport = w.transport;
  r.crossOriginIsolated = globalThis.crossOriginIsolated;
  const receipt = await w.sync.roundTrip();
  r.receipt = { ...receipt, order_id: String(receipt.order_id), echo: undefined };
  r.seenId = String(seen.order.id);
  r.seenToken = Array.from(seen.order.token);
  r.seenTokenIsU8 = seen.order.token instanceof Uint8Array;
  r.errors = await w.sync.errors();
  r.add = await w.sync.add(2, 3.5);
  r.reentry = await w.sync.reentry("nested", 2);
  // expose_async: two async Rust calls in flight, finishing in the order the
  // page opens their gates.
  {
    const order = [];
    const a = w.sync.waitGate("a").then((v) => order.push(v));
    const b = w.sync.waitGate("b").then((v) => order.push(v));
    await w.sync.openGate("b");
    await b;
    await w.sync.openGate("a");
    await a;
    w.sync.double = (x) => x * 2;
    // call_async: Rust keeps two page calls in flight, each awaiting a
    // fetch made on the page.
    let active = 0;
    let most = 0;
    w.sync.slowEcho = async (ms, v) => {
      active++;
      most = Math.max(most, active);
      const status = (await fetch(location.href)).status;
      await new Promise((res) => setTimeout(res, ms));
      active--;
      return `${v} ${status}`;
    };
    const inFlight = await w.sync.twoInFlight();
    r.asyncCalls = { order, afterAwait: await w.sync.sleepThenCallMain(1, 20), inFlight, most };
  }
  r.dom = await w.sync.dom();
  r.testDocTitle = globalThis.testDoc.title;
  r.realDom = await w.sync.realDom("hello from Rust");
  r.paragraph = document.getElementById("from-rust")?.textContent ?? null;
  r.importStats = await w.sync.importStats();
  r.mainExports = w.stats().exports;
  // 200 page -> Rust -> page round trips, back to back (a rough figure; the
  // benchmarks are the place for numbers).
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) await w.sync.nested(i);
  r.msPer200Nested = performance.now() - t0;
  w.terminate();
}

// `?fail`: Rust functions that cannot return (a panic, a JS exception
// thrown through Rust): each on a fresh worker with another call pending;
// every call must reject with a ClosedError that says why, none may hang.
async function failures() {
  const q = new URLSearchParams(location.search);
  const sw = q.has("sw") ? { serviceWorker: { url: "/bridge-js/src/sw.js", scope: "/" } } : {};
  const out = {};
  for (const [fn, arg] of [["panics", "boom"], ["panicsLater", "later"], ["throwsThrough", "up"]]) {
    const w = new BridgeWorker("/bridge-js/test/fixtures/rust-worker.js", { type: "module", ...sw });
    await w.ready;
    const before = await w.sync.add(2, 3);
    const pending = w.sync.waitGate("never opened");
    const settled = await Promise.allSettled([w.sync[fn](arg), pending]);
    const later = await w.sync.add(1, 1).then(() => null, (e) => e);
    const brief = (e) => e && { name: e.name, message: e.message };
    out[fn] = { before, call: brief(settled[0].reason), pending: brief(settled[1].reason), later: brief(later), transport: w.transport };
    w.terminate();
  }
  state.results.failures = out;
}

(new URLSearchParams(location.search).has("fail") ? failures() : main()).then(
  () => { state.done = true; },
  (e) => {
    state.error = { name: e.name, message: e.message, stack: e.stack };
    state.done = true;
  },
);
