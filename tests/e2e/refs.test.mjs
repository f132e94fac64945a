// Reference counting in Chromium (docs/references.md): 1,000,000 calls that
// each pass a fresh worker callback and receive a fresh DOM element return
// both sides' tables to their gc baseline; `using` releases at block end;
// worker callbacks held only by the page's timer and click listener survive
// gc and fire. The harness launches Chromium with --js-flags=--expose-gc.
// Both sides collect with gc({ execution: "async" }), from a task with no
// stack to scan conservatively (workers/refs.js and docs/references.md say
// why); a failure lists the page's imports left and whether their proxies
// are alive or collected without their finalizer having run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { e2e, waitFor, workerResult, assertClean, E2E_TRANSPORT } from "./harness.mjs";

const h = e2e({ servers: ["isolated"] });
// Through the service worker a call costs milliseconds, not microseconds:
// the same churn with fewer elements there.
const N = E2E_TRANSPORT === "service-worker" ? 3_000 : 1_000_000;

// Elements the worker checks: every 499th of each chunk of 5,000.
function checkedOf(n) {
  let checked = 0;
  for (let done = 0; done < n; done += 5000) checked += Math.ceil(Math.min(5000, n - done) / 499);
  return checked;
}

test(`${N.toLocaleString("en-US")} calls with fresh worker callbacks and fresh DOM elements: both sides back to the gc baseline (${E2E_TRANSPORT})`, async (t) => {
  const r = await h.run(t, { worker: "refs.js", case: "churn", main: "refs.js", params: { n: N }, timeout: 600_000 });
  const o = workerResult(r);
  assert.equal(o.n, N);
  assert.equal(o.gc, "task");
  assert.equal(o.checked, checkedOf(o.n));
  assert.deepEqual(o.base, { main: { exports: 0, imports: 0 }, worker: { exports: 0, imports: 0 } });
  assert.deepEqual(o.after, o.base);
  // Entries were made on both sides while it ran (the callbacks on the page,
  // the elements in the worker), not merely never counted.
  assert.ok(o.mainPeak > 0 && o.workerPeak > 0, JSON.stringify(o));
  assertClean(r);
});

test("`using` releases a DOM proxy at block end; using it afterwards throws naming it", async (t) => {
  const r = await h.run(t, { worker: "refs.js", case: "using", main: "refs.js" });
  const o = workerResult(r);
  assert.equal(o.inside.text, "scoped");
  assert.equal(o.inside.imports, o.before + 1);
  assert.equal(o.afterBlock, o.before);
  assert.match(o.useAfter, /^worker-bridge: window\.document\.createElement\(\) was released \(release\(\) or Symbol\.dispose\)/);
  // The worker still holds `document` and `createElement` (imported before
  // the block); the page's export of the <p> went with the release.
  assert.deepEqual(o.mainAfter, { exports: 2, imports: 0 });
  assertClean(r);
});

test("worker callbacks held only by the page's setTimeout and click listener fire after gc", async (t) => {
  const r = await h.run(t, {
    worker: "refs.js",
    case: "callbacks",
    main: "refs.js",
    beforeDone: async (p) => {
      await waitFor(p, "armed", 60_000);
      await p.page.click("#target");
    },
  });
  const o = workerResult(r);
  assert.deepEqual(o.fired, ["click:click:target", "timeout:OK"]);
  assert.ok(o.armed.exports >= 2, `the worker exported both callbacks: ${JSON.stringify(o.armed)}`);
  // After several collections on both sides the page still imports the
  // listener (and the timer callback unless it fired already), and the worker
  // still exports it: nothing but the page's import keeps it.
  assert.ok(o.mainImportsAfterGc >= 1, JSON.stringify(o));
  assert.ok(o.exportsAfterGc >= 1, JSON.stringify(o));
  assert.deepEqual(o.final, { main: { exports: 0, imports: 0 }, worker: { exports: 0, imports: 0 } });
  assertClean(r);
});
