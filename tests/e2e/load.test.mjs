// Volume: back-to-back sync calls, big payloads both ways, four workers
// calling at once. The counts depend on the transport (WB_E2E_TRANSPORT): a
// call through the service worker takes milliseconds, not microseconds, so
// that run makes 10,000 calls and sends 4 MiB (issue 6's figures) where the
// Atomics run makes 100,000 and sends 8 MiB.
import { test } from "node:test";
import assert from "node:assert/strict";
import { e2e, workerResult, mainResult, assertClean, E2E_TRANSPORT } from "./harness.mjs";

const h = e2e({ servers: ["isolated"] });
const SW = E2E_TRANSPORT === "service-worker";
const COUNTS = SW
  ? { n: 10_000, undefinedN: 1_000, mib: 4, multi: 300 }
  : { n: 100_000, undefinedN: 10_000, mib: 8, multi: 3000 };
const n = (x) => x.toLocaleString("en-US");

test(`${n(COUNTS.n)} back-to-back sync calls all return the right value (${E2E_TRANSPORT})`, { timeout: 240_000 }, async (t) => {
  const r = await h.run(t, { worker: "load.js", case: "calls", params: { n: COUNTS.n, undefinedN: COUNTS.undefinedN }, main: "load.js", timeout: 200_000 });
  const o = workerResult(r);
  assert.equal(o.N, COUNTS.n);
  assert.equal(o.U, COUNTS.undefinedN);
  assert.equal(o.wrong, 0, `wrong results, first: ${JSON.stringify(o.firstWrong)}`);
  assert.equal(o.sum, (o.N * (o.N + 1)) / 2);
  // every call served exactly once: the main side's own count
  assert.equal(o.mainCount, o.N);
  assert.equal(o.undefinedWrong, 0, "undefined results confused with other results");
  t.diagnostic(`${o.N} calls in ${o.ms.toFixed(0)} ms: ${((o.N / o.ms) * 1000).toFixed(0)} calls/s, ${((o.ms * 1000) / o.N).toFixed(2)} us/call`);
  assertClean(r);
});

test(`${COUNTS.mib} MiB payloads worker -> main and back (${E2E_TRANSPORT})`, { timeout: 120_000 }, async (t) => {
  const r = await h.run(t, { worker: "load.js", case: "payloadToMain", params: { mib: COUNTS.mib }, main: "load.js", timeout: 100_000 });
  const o = workerResult(r);
  assert.equal(o.sentBytes.length, COUNTS.mib * 1024 * 1024);
  assert.deepEqual(o.seenBytes, { type: "[object Uint8Array]", ...o.sentBytes });
  assert.ok(o.sentString.length >= (COUNTS.mib / 2) * 1024 * 1024); // fixtures.js bigString: at least that many code units
  assert.deepEqual(o.seenString, o.sentString);
  assert.equal(o.madeBytes.length, COUNTS.mib * 1024 * 1024);
  assert.deepEqual(o.madeBytes, { type: "[object Uint8Array]", ...o.expectedMadeBytes });
  assert.deepEqual(o.madeString, o.expectedString);
  t.diagnostic(`${COUNTS.mib} MiB result from main in ${o.msMake.toFixed(0)} ms`);
  assertClean(r);
});

test(`${COUNTS.mib} MiB payloads main -> worker and back (${E2E_TRANSPORT})`, { timeout: 120_000 }, async (t) => {
  const r = await h.run(t, { worker: "load.js", case: "payloadToWorker", params: { mib: COUNTS.mib }, main: "load.js", timeout: 100_000 });
  workerResult(r);
  const m = mainResult(r);
  assert.equal(m.sentBytes.length, COUNTS.mib * 1024 * 1024);
  assert.deepEqual(m.seenBytes, { type: "[object Uint8Array]", ...m.sentBytes });
  assert.deepEqual(m.seenString, m.sentString);
  assert.equal(m.madeBytes.length, COUNTS.mib * 1024 * 1024);
  assert.deepEqual(m.madeBytes, { type: "[object Uint8Array]", ...m.expectedMadeBytes });
  assert.deepEqual(m.madeString, m.expectedString);
  assertClean(r);
});

test(`four workers call the main thread at the same time, ${n(COUNTS.multi)} calls each (${E2E_TRANSPORT})`, { timeout: 120_000 }, async (t) => {
  const r = await h.run(t, { main: `multi.js?n=${COUNTS.multi}`, timeout: 100_000 });
  const m = mainResult(r);
  assert.equal(m.reports.length, 4);
  for (const rep of m.reports) {
    assert.equal(rep.error, undefined, `worker ${rep.k}: ${rep.error}`);
    assert.equal(rep.sawAllStarted, 4, `worker ${rep.k} never saw all four workers calling`);
    assert.equal(rep.wrong, 0, `worker ${rep.k} got wrong results`);
    assert.equal(rep.documentSame, true);
    assert.equal(rep.title, "worker-bridge e2e");
  }
  assert.deepEqual(m.reports.map((rep) => rep.k).sort(), [0, 1, 2, 3]);
  assert.deepEqual(m.ticks, new Array(4).fill(COUNTS.multi));
  assert.deepEqual(m.squares, [100, 122, 146, 172]);
  const done = `done ${COUNTS.multi}`;
  assert.deepEqual(m.datasets, { worker0: done, worker1: done, worker2: done, worker3: done });
  assertClean(r);
});
