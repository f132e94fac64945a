// Without Atomics.waitAsync on the main thread (older engines), the worker
// rings a postMessage doorbell after each frame; everything else is the same.
// This file runs in its own process (node --test), so deleting waitAsync
// before the first import of main.js affects only these tests.
import { test } from "node:test";
import assert from "node:assert/strict";

const saved = Atomics.waitAsync;
delete Atomics.waitAsync;
const { BridgeWorker } = await import("../src/main.js");
const { STATE, AWAKE, POLLING } = await import("../src/mailbox.js");
Atomics.waitAsync = saved;

const FIXTURE = new URL("./fixtures/worker.js", import.meta.url);

test("doorbell transport: calls both ways, nested calls, 8 MiB payloads", async () => {
  const w = new BridgeWorker(FIXTURE);
  try {
    w.sync.inc = (i) => i + 1;
    w.sync.echoMain = (v) => v;
    await w.ready;
    assert.equal(w._doorbell, true, "main knows it has no waitAsync");
    assert.deepEqual(await w.sync.info(), { native: true, transport: "atomics", isWindow: true, isPlain: false });
    assert.deepEqual(await w.sync.loop(2000), { sum: 2001000, bad: -1 });
    // The page never parks in a waitAsync here: while a main->worker call
    // waits for its reply (never, here), after the call's look for it, its
    // state still says it runs.
    w.sync.hang().catch(() => {});
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(w._ep.box.hdr[STATE] & (AWAKE | POLLING), AWAKE | POLLING, "the page's state after a call");
    const m = new Map([["k", [1, 2]]]);
    assert.deepStrictEqual(await w.sync.viaMain(m), m);
    w.sync.main_task = async () => await w.sync.worker_task();
    assert.deepEqual(await w.sync.run_main_task(), { result: "ok" });
    const N = 8 << 20;
    const big = await w.sync.makeBig(N);
    assert.equal(big.length, N);
    assert.equal(big[N - 1], (N - 1) & 0xff);
    w.sync.makeBig = () => new Uint8Array(N).fill(3);
    const r = await w.sync.bigFromMain();
    assert.equal(r.length, N);
    assert.equal(r.last, 3);
  } finally {
    w.terminate();
  }
});
