// Reference counting in Chromium (tests/e2e/refs.test.mjs): fresh DOM nodes
// and fresh callbacks back to a gc baseline, `using`, and worker callbacks
// held by the page's timer and click listener. The page side is
// pages/main/refs.js (`sync.gcMain` collects on the page and returns its
// stats; `refsDiv(cb)` makes a <div> with `cb` as its onclick).
//
// Query: `n` (churn size, default 1,000,000), `settleMs` (how long settle()
// collects before it fails, default 60 s), `gc=sync` (collect with a plain
// `gc()` call, as before; see below).
import { runCases, params } from "./common.js";

const tick = () => new Promise((r) => setTimeout(r, 1));
const pick = (s) => ({ exports: s.exports, imports: s.imports });

// How both sides collect. A plain `gc()` runs the collection inside the
// caller's stack and tells the engine that stack may hold heap pointers, so
// Blink's collector (Oilpan, which owns DOM nodes and their event handlers)
// scans it conservatively: a stale word below the call can keep a DOM node
// alive, and with it the page's proxy of the worker callback that is its
// onclick. `gc({ type: "major", execution: "async" })` runs the same full
// collection from a task of its own with no stack to scan (V8's gc
// extension), so only real references keep objects alive. The churn once
// ended with 7 page imports left after 60 s of plain gc() at 1,000,000
// calls, not reproduced since (docs/references.md); `gc=sync` in the query
// collects the old way.
const GC_MODE = params.get("gc") === "sync" ? "sync" : "task";
async function collect() {
  if (GC_MODE === "sync") self.gc();
  else await self.gc({ type: "major", execution: "async" });
}

// Collects on both sides until both tables have the wanted sizes; fails with
// the last counts after a deadline. Each round turns the event loop after
// every collection (setTimeout), so FinalizationRegistry cleanup tasks run
// and the releases they queue travel (on the gcMain call and its reply).
async function settle(b, want, timeoutMs = Number(params.get("settleMs") ?? 60_000)) {
  const deadline = performance.now() + timeoutMs;
  for (let rounds = 1; ; rounds++) {
    for (let i = 0; i < 2; i++) {
      await collect();
      await tick();
    }
    const main = pick(b.sync.gcMain(GC_MODE));
    await collect();
    await tick();
    const worker = pick(b.stats());
    const now = { main, worker };
    if (want === null || JSON.stringify(now) === JSON.stringify(want)) return { ...now, rounds };
    if (performance.now() > deadline) {
      // Which page imports remain, their counts, and whether their proxies
      // are still alive (something holds them) or collected but not
      // finalized (no FinalizationRegistry callback ran for them).
      let residue;
      try {
        residue = JSON.stringify(b.sync.mainResidue());
      } catch (e) {
        residue = `(unavailable: ${e.message})`;
      }
      throw new Error(`tables did not return to ${JSON.stringify(want)} within ${timeoutMs} ms (${rounds} rounds, gc ${GC_MODE}): ` +
        `${JSON.stringify(now)}; the page's remaining imports: ${residue}`);
    }
  }
}

runCases({
  // N calls, each passing a fresh worker callback to the page and receiving
  // a fresh DOM element (a <div> with that callback as its onclick).
  async churn(b) {
    const n = Number(params.get("n") ?? 1_000_000);
    const chunk = 5_000;
    if (typeof self.gc !== "function") throw new Error("the worker has no gc(): launch Chromium with --js-flags=--expose-gc");
    const base = await settle(b, null);
    let mainPeak = 0;
    let workerPeak = 0;
    let checked = 0;
    for (let done = 0; done < n; done += chunk) {
      const make = b.window.refsDiv;
      const m = Math.min(chunk, n - done);
      for (let i = 0; i < m; i++) {
        const cb = () => done + i;
        const el = make(cb);
        if (i % 499 === 0) {
          if (el.tagName !== "DIV") throw new Error(`element ${done + i}: tagName ${el.tagName}`);
          if (el.onclick !== cb) throw new Error(`element ${done + i}: the callback did not come home as itself`);
          checked++;
        }
      }
      workerPeak = Math.max(workerPeak, b.stats().imports);
      mainPeak = Math.max(mainPeak, b.sync.mainStats().imports);
      await tick(); // a job boundary: WeakRefs made in this chunk may go
    }
    const after = await settle(b, { main: pick(base.main), worker: pick(base.worker) });
    return { n, checked, gc: GC_MODE, base: { main: base.main, worker: base.worker }, after: { main: after.main, worker: after.worker }, mainPeak, workerPeak, rounds: after.rounds };
  },

  // `using` releases at block end, with the syntax itself.
  async using(b) {
    const { window, stats } = b;
    const doc = window.document;
    const create = doc.createElement;
    const before = stats().imports;
    let leaked;
    let inside;
    {
      using el = Reflect.apply(create, doc, ["p"]);
      el.textContent = "scoped";
      inside = { imports: stats().imports, text: el.textContent };
      leaked = el;
    }
    const afterBlock = stats().imports;
    let useAfter = "no error";
    try {
      void leaked.textContent;
    } catch (e) {
      useAfter = e.message;
    }
    // The release rides on this call; main's export of the <p> goes with it.
    const mainAfter = pick(b.sync.mainStats());
    return { before, inside, afterBlock, useAfter, mainAfter };
  },

  // Worker functions handed to the page's setTimeout and addEventListener,
  // with no reference left in the worker; gc on both sides; then they fire.
  async callbacks(b) {
    const { window, sync, stats } = b;
    const fired = [];
    let resolveBoth;
    const both = new Promise((r) => (resolveBoth = r));
    const note = (what) => {
      fired.push(what);
      if (fired.length === 2) resolveBoth();
    };
    (() => {
      window.setTimeout((msg) => note(`timeout:${msg}`), 1000, "OK");
      window.document.getElementById("target").addEventListener("click", (ev) => note(`click:${ev.type}:${ev.target.id}`), { once: true });
    })();
    const armed = pick(stats());
    const afterGc = await settle(b, null);
    for (let i = 0; i < 3; i++) await settle(b, null);
    const exportsAfterGc = stats().exports;
    sync.armed(); // the spec clicks #target now
    await both;
    // Both fired; the page let go of both (timer done, listener `once`).
    const final = await settle(b, { main: { exports: 0, imports: 0 }, worker: { exports: 0, imports: 0 } });
    return { fired: fired.slice().sort(), armed, mainImportsAfterGc: afterGc.main.imports, exportsAfterGc, final: { main: final.main, worker: final.worker } };
  },
});
