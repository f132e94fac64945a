// Volume: 100k back-to-back sync calls, 8 MiB payloads both ways, four
// workers calling at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { e2e, workerResult, mainResult, assertClean } from "./harness.mjs";

const h = e2e({ servers: ["isolated"] });

test("100k back-to-back sync calls all return the right value", { timeout: 180_000 }, async (t) => {
  const r = await h.run(t, { worker: "load.js", case: "calls100k", main: "load.js", timeout: 150_000 });
  const o = workerResult(r);
  assert.equal(o.wrong, 0, `wrong results, first: ${JSON.stringify(o.firstWrong)}`);
  assert.equal(o.sum, (o.N * (o.N + 1)) / 2);
  assert.equal(o.N, 100_000);
  // every call served exactly once: the main side's own count plus the count call itself
  assert.equal(o.mainCount, o.N);
  assert.equal(o.undefinedWrong, 0, "undefined results confused with other results");
  t.diagnostic(`100k calls in ${o.ms.toFixed(0)} ms: ${((o.N / o.ms) * 1000).toFixed(0)} calls/s, ${((o.ms * 1000) / o.N).toFixed(2)} us/call`);
  assertClean(r);
});

test("8 MiB payloads worker -> main and back", { timeout: 120_000 }, async (t) => {
  const r = await h.run(t, { worker: "load.js", case: "payloadToMain", main: "load.js", timeout: 100_000 });
  const o = workerResult(r);
  assert.equal(o.sentBytes.length, 8 * 1024 * 1024);
  assert.deepEqual(o.seenBytes, { type: "[object Uint8Array]", ...o.sentBytes });
  assert.ok(o.sentString.length >= 4 * 1024 * 1024);
  assert.deepEqual(o.seenString, o.sentString);
  assert.deepEqual(o.madeBytes, { type: "[object Uint8Array]", ...o.expectedMadeBytes });
  assert.deepEqual(o.madeString, o.expectedString);
  t.diagnostic(`8 MiB result from main in ${o.msMake.toFixed(0)} ms`);
  assertClean(r);
});

test("8 MiB payloads main -> worker and back", { timeout: 120_000 }, async (t) => {
  const r = await h.run(t, { worker: "load.js", case: "payloadToWorker", main: "load.js", timeout: 100_000 });
  workerResult(r);
  const m = mainResult(r);
  assert.equal(m.sentBytes.length, 8 * 1024 * 1024);
  assert.deepEqual(m.seenBytes, { type: "[object Uint8Array]", ...m.sentBytes });
  assert.deepEqual(m.seenString, m.sentString);
  assert.deepEqual(m.madeBytes, { type: "[object Uint8Array]", ...m.expectedMadeBytes });
  assert.deepEqual(m.madeString, m.expectedString);
  assertClean(r);
});

test("four workers call the main thread at the same time", { timeout: 120_000 }, async (t) => {
  const r = await h.run(t, { main: "multi.js", timeout: 100_000 });
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
  assert.deepEqual(m.ticks, [3000, 3000, 3000, 3000]);
  assert.deepEqual(m.squares, [100, 122, 146, 172]);
  assert.deepEqual(m.datasets, { worker0: "done 3000", worker1: "done 3000", worker2: "done 3000", worker3: "done 3000" });
  assertClean(r);
});
