// The page of tests/e2e/rust/refs.test.mjs: Rust closures and objects held
// by the page by reference (bridge_wasm::embed::{Callback, RustObject}).
// Rust adds click listeners to window and document.body; the spec clicks
// (a trusted click), the page dispatches more; then Rust passes `n` fresh
// closures (and n / 10 objects) that the page calls once and drops, and both
// sides' tables must come back to zero after gc on the page.
import { BridgeWorker } from "/bridge-js/src/main.js";

const state = { done: false, armed: false, error: null, results: {} };
window.__e2e = state;
const params = new URLSearchParams(location.search);
const N = Number(params.get("n") ?? 2000);
const tick = () => new Promise((r) => setTimeout(r, 1));

// Collects on the page (from a task of its own, no stack scanned
// conservatively: tests/e2e/workers/refs.js says why) until Rust's export
// table and the page's import table hold what `want` says; the releases the
// FinalizationRegistry queues ride on the refStats call.
async function settle(w, want, timeoutMs = 60_000) {
  const deadline = performance.now() + timeoutMs;
  for (let rounds = 1; ; rounds++) {
    for (let i = 0; i < 2; i++) {
      await self.gc({ type: "major", execution: "async" });
      await tick();
    }
    const rust = await w.sync.refStats();
    const page = w.stats().imports;
    const now = { rust, page, rounds };
    if (want(now)) return now;
    if (performance.now() > deadline) {
      throw new Error(`the tables did not settle within ${timeoutMs} ms: ${JSON.stringify(now)}`);
    }
  }
}

async function main() {
  if (typeof self.gc !== "function") throw new Error("no gc(): launch Chromium with --js-flags=--expose-gc");
  // `?sw`: the service-worker transport (a page without COOP/COEP; the
  // worker script in /bridge-js/ must be inside the scope too), as in
  // tests/e2e/rust/page.js.
  const sw = params.has("sw") ? { serviceWorker: { url: "/bridge-js/src/sw.js", scope: "/" } } : {};
  const w = new BridgeWorker("/bridge-js/test/fixtures/rust-refs-worker.js", { type: "module", ...sw });
  const target = document.getElementById("target");
  const click = (x) => target.dispatchEvent(new MouseEvent("click", { bubbles: true, clientX: x }));
  let kept = null;
  let sawBefore = null;
  w.sync.clickTarget = (x) => { click(x); };
  w.sync.same = (a, b) => typeof a === "function" && a === b;
  w.sync.keep = (f) => { kept = f; return typeof f === "function"; };
  w.sync.isKept = (f) => f === kept;
  w.sync.sameMethod = async (o) => {
    const add = await o.add;
    const again = await o.add;
    sawBefore = await add(5);
    return typeof add === "function" && add === again && (await o.missing) === undefined;
  };
  w.sync.forget = () => { kept = null; };
  let saved = null;
  const message = async (p) => { try { await p; return "no error"; } catch (e) { return `${e.name}: ${e.message}`; } };
  w.sync.reenter = async (f) => { saved = f; const r = await f(); saved = null; return r; };
  w.sync.callAgain = async () => [await message(saved()), await message(new saved())];
  let calls = 0;
  w.sync.takeCallback = async (cb, i) => { calls++; return await cb(i); };
  w.sync.takeObject = async (o, i) => {
    const add = await o.add;
    await add(i);
    return await (await o.get)();
  };
  await w.ready;
  const r = state.results;
  r.transport = w.transport;
  const base = w.stats().imports;

  // Listeners: the window one is held only by the page (Rust dropped its
  // clone), the body one by the page and Rust.
  await w.sync.listen();
  r.listening = await settle(w, () => true);
  for (let i = 0; i < 3; i++) r.listening = await settle(w, () => true);
  state.armed = true; // the spec clicks #target now (a trusted click)
  let clicks = [];
  for (const deadline = performance.now() + 30_000; clicks.length < 2 && performance.now() < deadline;) {
    await new Promise((res) => setTimeout(res, 20));
    clicks = clicks.concat(await w.sync.clicks());
  }
  r.trustedClicks = clicks.map((c) => c.replace(/:-?\d+:trusted$/, ":trusted")).sort();
  // Blocked in a call to the page, Rust serves the listener nested.
  r.whileBlocked = await w.sync.clickWhileBlocked(22);
  // removeEventListener with the same Callback: no more clicks reach Rust.
  await w.sync.unlisten();
  click(33);
  r.afterUnlisten = await w.sync.clicks();

  // Identity: the same Callback is the same function; a method read twice
  // is one function.
  r.identity = await w.sync.identity();
  r.methodResult = sawBefore;
  r.errors = await w.sync.errors();

  // Churn: N closures and N/10 objects, each passed, called once, dropped.
  r.churnSum = await w.sync.churn(N);
  r.calls = calls;
  r.peak = await w.sync.refStats();
  const expectDropped = 2 + 2 + 1 + N + Math.ceil(N / 10);
  r.final = await settle(w, (s) => s.rust.live === 0 && s.rust.count === 0 && s.page === base && s.rust.dropped === expectDropped);
  r.base = base;
  r.expectDropped = expectDropped;
  r.n = N;
  w.terminate();
}

main().then(
  () => { state.done = true; },
  (e) => {
    state.error = { name: e.name, message: e.message, stack: e.stack };
    state.done = true;
  },
);
