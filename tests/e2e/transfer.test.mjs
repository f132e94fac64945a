// transfer(): ArrayBuffers that move instead of being copied, both directions,
// in Chromium. Runs on the atomics transport and, with
// WB_E2E_TRANSPORT=service-worker, on the service-worker transport (there the
// buffers are copied through the channel and detached on the sender).
import { test } from "node:test";
import assert from "node:assert/strict";
import { e2e, workerResult, mainResult, assertClean, E2E_TRANSPORT } from "./harness.mjs";

const h = e2e({ servers: ["isolated"] });
const ATOMICS = E2E_TRANSPORT === "atomics";

test("worker -> main: sync call arguments move, main's moved result is detached on main", async (t) => {
  const r = await h.run(t, { worker: "transfer.js", case: "toMain", main: "transfer.js", timeout: 120_000 });
  const o = workerResult(r);
  assert.equal(o.transport, ATOMICS ? "atomics" : "service-worker");
  assert.equal(o.sameTransfer, true, "bridge().transfer is the module's transfer");
  for (const n of [1 << 20, 8 << 20]) {
    assert.deepEqual(o[`buffer ${n}`], { got: { isBuffer: true, length: n, intact: true }, after: 0 },
      `${n} bytes: main got them all, the worker's buffer is detached`);
  }
  assert.deepEqual(o.nested, {
    got: {
      a: 4096, aIntact: true, bIntact: true, sameB: true,
      // Moved: a view over the moved buffer. Copied (service worker): a view
      // over a fresh buffer of its own bytes, as an untransferred view arrives.
      view: { kind: "Float32Array", offset: ATOMICS ? 64 : 0, length: 16, overA: ATOMICS, intact: true },
    },
    after: [0, 0],
  });
  assert.deepEqual(o.given, { isBuffer: true, length: 2 << 20, intact: true }, "the worker got main's bytes");
  assert.deepEqual(o.givenOnMain, [0], "main's buffer is detached after its reply");
  assert.match(o.errors.twiceInList.message, /listed twice/);
  assert.match(o.errors.notTransferable.message, /only ArrayBuffers can be moved/);
  assert.match(o.errors.twiceInMessage.message, /transferred twice in one message/);
  assert.equal(o.errors.untouched, 16, "a refused message detaches nothing");
  assert.deepEqual(o.errors.sentOnce, { isBuffer: true, length: 16, intact: true });
  assert.match(o.errors.again.message, /detached/);
  // Atomics: every transferring call went beside the mailbox by postMessage
  // (2 buffers + nested + the one sent once); service worker: copied.
  assert.equal(o.moves.toMain, ATOMICS ? 4 : 0);
  assert.equal(o.moves.toWorker, 0, "main's reply into the blocked worker cannot be a postMessage");
  assertClean(r);
});

test("main -> worker: async call arguments move, main's buffers are detached", async (t) => {
  const r = await h.run(t, { worker: "transfer.js", case: "toWorker", main: "transfer.js", timeout: 120_000 });
  workerResult(r);
  const o = mainResult(r);
  for (const n of [1 << 20, 8 << 20]) {
    assert.deepEqual(o[`buffer ${n}`], {
      got: { kind: "ArrayBuffer", length: n, bufferLength: n, byteOffset: 0, intact: true },
      after: 0,
    }, `${n} bytes`);
  }
  assert.deepEqual(o.view, {
    got: { kind: "Int32Array", length: 400, bufferLength: ATOMICS ? 1 << 16 : 400, byteOffset: ATOMICS ? 4 : 0, intact: true },
    after: 0,
  });
  assert.equal(o.moves.toWorker, ATOMICS ? 3 : 0, "zero-copy where the worker is not blocked (atomics)");
  assertClean(r);
});
