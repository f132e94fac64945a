// Reference counting in Chromium (tests/e2e/refs.test.mjs): fresh DOM nodes
// and fresh callbacks back to a gc baseline, `using`, and worker callbacks
// held by the page's timer and click listener. The page side is
// pages/main/refs.js (`sync.gcMain` collects on the page and returns its stats).
import { runCases, params } from "./common.js";

const tick = () => new Promise((r) => setTimeout(r, 1));
const pick = (s) => ({ exports: s.exports, imports: s.imports });

// Collects on both sides until both tables have the wanted sizes; fails with
// the last counts after a deadline.
async function settle(b, want, timeoutMs = 60_000) {
  const deadline = performance.now() + timeoutMs;
  for (let rounds = 1; ; rounds++) {
    for (let i = 0; i < 2; i++) {
      self.gc();
      await tick();
    }
    const main = pick(b.sync.gcMain());
    self.gc();
    await tick();
    const worker = pick(b.stats());
    const now = { main, worker };
    if (want === null || JSON.stringify(now) === JSON.stringify(want)) return { ...now, rounds };
    if (performance.now() > deadline) {
      throw new Error(`tables did not return to ${JSON.stringify(want)} within ${timeoutMs} ms: ${JSON.stringify(now)}`);
    }
  }
}

runCases({
  // N fresh DOM elements, each given a fresh worker callback as onclick.
  async churn(b) {
    const n = Number(params.get("n") ?? 100_000);
    const chunk = 5_000;
    if (typeof self.gc !== "function") throw new Error("the worker has no gc(): launch Chromium with --js-flags=--expose-gc");
    const base = await settle(b, null);
    let mainPeak = 0;
    let workerPeak = 0;
    let checked = 0;
    for (let done = 0; done < n; done += chunk) {
      const doc = b.window.document;
      const create = doc.createElement;
      const m = Math.min(chunk, n - done);
      for (let i = 0; i < m; i++) {
        const el = Reflect.apply(create, doc, ["div"]);
        const cb = () => done + i;
        el.onclick = cb;
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
    return { n, checked, base: { main: base.main, worker: base.worker }, after: { main: after.main, worker: after.worker }, mainPeak, workerPeak };
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
