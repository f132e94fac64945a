// transfer(): ArrayBuffers that move instead of being copied, in both
// directions and over both Node-testable transports (atomics, async).
// Run: node --test --expose-gc bridge-js/test/transfer.test.js
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { BridgeWorker, transfer } from "../src/main.js";
import { transfer as transferFromWorkerEntry } from "../src/worker.js";
import { encodeValue, decodeValue, transferRecord, WireError } from "../src/wire.js";

const FIXTURE = new URL("./fixtures/transfer-worker.js", import.meta.url);
const TAG = "worker-bridge";

const pattern = (i, seed) => (i * 31 + seed) & 0xff;

function makeBuffer(n, seed) {
  const u = new Uint8Array(n);
  for (let i = 0; i < n; i++) u[i] = pattern(i, seed);
  return u.buffer;
}

function checkPattern(buf, seed, offset = 0, length = buf.byteLength - offset) {
  const u = new Uint8Array(buf, offset, length);
  for (let i = 0; i < u.length; i++) if (u[i] !== pattern(offset + i, seed)) return false;
  return true;
}

// Counts the messages that carried moved buffers, per direction (on the
// bridge's own channel, where every bridge message after the start travels).
function countMoves(w) {
  const c = { toMain: 0, toWorker: 0 };
  const port = w._port;
  port.on("message", (d) => {
    if (d !== null && typeof d === "object" && d[TAG] === "m" && Array.isArray(d.x) && d.x.length > 0) c.toMain++;
  });
  const post = port.postMessage.bind(port);
  port.postMessage = (m, t) => {
    if (m !== null && typeof m === "object" && m[TAG] === "m" && Array.isArray(m.x) && m.x.length > 0) c.toWorker++;
    return post(m, t);
  };
  return c;
}

function exposeMain(w, received) {
  w.sync.takeBuffer = (buf, extra) => {
    received.push(buf);
    return { isBuffer: buf instanceof ArrayBuffer, length: buf.byteLength, extra: extra !== undefined };
  };
  w.sync.takeView = (view) => {
    received.push(view);
    return { kind: view.constructor.name, offset: view.byteOffset, length: view.length, bufferLength: view.buffer.byteLength };
  };
  w.sync.takeNested = (v) => {
    received.push(v);
    return true;
  };
  w.sync.benchTake = (buf) => buf.byteLength;
}

describe("transfer() over the atomics transport", () => {
  let w;
  let moves;
  const received = [];
  before(async () => {
    w = new BridgeWorker(FIXTURE, { type: "module" });
    exposeMain(w, received);
    await w.ready;
    moves = countMoves(w);
  });
  after(() => w.terminate());

  test("the worker gets transfer() from bridge() and from the module, and they are one function", async () => {
    assert.deepEqual(await w.sync.info(), { transport: "atomics", sameTransfer: true });
    assert.equal(transferFromWorkerEntry, transfer, "main and worker entries export the same marker");
  });

  test("worker -> main sync call: the sender's buffer is detached, main gets the bytes", async () => {
    received.length = 0;
    const before = moves.toMain;
    const r = await w.sync.sendBuffer(100_000, 5);
    assert.deepEqual(r, { got: { isBuffer: true, length: 100_000, extra: false }, afterLength: 0 });
    assert.equal(moves.toMain, before + 1, "the buffer moved beside the message (no copy)");
    assert.ok(checkPattern(received[0], 5), "main holds the worker's bytes");
  });

  test("8 MiB moves whole (bigger than the mailbox capacity)", async () => {
    received.length = 0;
    const n = 8 << 20;
    const r = await w.sync.sendBuffer(n, 9);
    assert.equal(r.afterLength, 0);
    assert.equal(r.got.length, n);
    assert.equal(received[0].byteLength, n);
    assert.ok(checkPattern(received[0], 9));
  });

  test("a typed array moves its buffer and arrives as the same kind of view", async () => {
    received.length = 0;
    const r = await w.sync.sendView(1024, 3);
    assert.deepEqual(r, {
      got: { kind: "Float64Array", offset: 8, length: 126, bufferLength: 1024 },
      afterLength: 0,
      viewLength: 0,
    });
    const v = received[0];
    assert.ok(checkPattern(v.buffer, 3), "the whole buffer came, not only the view's bytes");
  });

  test("buffers nested in objects move; shared structure and views over them hold", async () => {
    received.length = 0;
    const r = await w.sync.sendNested(11);
    assert.deepEqual(r, { got: true, after: [0, 0] });
    const v = received[0];
    const a = v.outer.a;
    const b = v.again;
    assert.ok(a instanceof ArrayBuffer && b instanceof ArrayBuffer);
    assert.equal(a.byteLength, 4096);
    assert.ok(checkPattern(a, 11));
    assert.ok(checkPattern(b, 12));
    assert.equal(v.outer.list[1].b, b, "the same buffer twice is one object");
    const view = v.outer.list[0];
    assert.ok(view instanceof Uint8Array);
    assert.equal(view.buffer, a, "a view over the moved buffer, not a copy");
    assert.equal(view.byteOffset, 16);
    assert.equal(view.length, 32);
    assert.deepEqual(v.plain, [1, "x"]);
  });

  test("errors are clear and immediate; the channel keeps working", async () => {
    received.length = 0;
    const r = await w.sync.errors();
    assert.match(r.twiceInList.message, /same ArrayBuffer is listed twice/);
    assert.equal(r.twiceInList.name, "TypeError");
    assert.match(r.notTransferable.message, /only ArrayBuffers can be moved/);
    assert.match(r.shared.message, /SharedArrayBuffer is shared/);
    assert.match(r.noList.message, /pass the buffers to move as the second argument/);
    assert.match(r.twiceInMessage.message, /transferred twice in one message/);
    assert.equal(r.untouchedAfterError, true, "a message that failed to encode detaches nothing");
    assert.equal(r.first.length, 64);
    assert.match(r.again.message, /detached/);
    assert.equal(r.stillWorks.length, 8);
  });

  test("main -> worker async call: zero-copy, main's buffer is detached", async () => {
    const before = moves.toWorker;
    const buf = makeBuffer(1 << 20, 21);
    const r = await w.sync.receive(transfer(buf), 21);
    assert.deepEqual(r, { isBuffer: true, length: 1 << 20, intact: true });
    assert.equal(buf.byteLength, 0);
    assert.equal(moves.toWorker, before + 1, "moved beside the message");
  });

  test("a worker result marked with transfer() moves to main", async () => {
    const before = moves.toMain;
    const v = await w.sync.makeResult(5000, 4);
    assert.ok(v instanceof Uint8Array);
    assert.equal(v.length, 5000);
    assert.ok(checkPattern(v.buffer, 4));
    assert.equal(await w.sync.lastLength(), 0, "the worker's buffer is detached");
    assert.equal(moves.toMain, before + 1);
  });

  test("main's reply into the blocked worker: copied through the mailbox, main's buffer detached", async () => {
    const given = [];
    w.sync.giveBuffer = (n, seed) => {
      const b = makeBuffer(n, seed);
      given.push(b);
      return transfer(b);
    };
    const before = moves.toWorker;
    const r = await w.sync.askMain(3 << 20, 6);
    assert.deepEqual(r, { isBuffer: true, length: 3 << 20, intact: true });
    assert.equal(given[0].byteLength, 0, "move semantics hold on main");
    assert.equal(moves.toWorker, before, "a blocked worker cannot take a postMessage: it went through the mailbox");
  });

  test("a nested main -> worker call into the blocked worker: copied, detached", async () => {
    const sent = [];
    w.sync.callBackWithBuffer = async (n, seed) => {
      const b = makeBuffer(n, seed);
      sent.push(b);
      return await w.sync.receive(transfer(b), seed);
    };
    const r = await w.sync.blockAndReceive(70_000, 8);
    assert.deepEqual(r, { isBuffer: true, length: 70_000, intact: true });
    assert.equal(sent[0].byteLength, 0);
  });

  test("a worker that did not say `transfer: true` at start-up gets copies; main's buffer is still detached", async () => {
    // What the Rust embedding's bootstrap (which reads only the mailbox) sees.
    const ep = w._ep;
    assert.equal(ep.peerTakesMoves, true, "bridge-js's worker says it takes moved buffers");
    ep.peerTakesMoves = false;
    try {
      const before = moves.toWorker;
      const buf = makeBuffer(300_000, 13);
      assert.deepEqual(await w.sync.receive(transfer(buf), 13), { isBuffer: true, length: 300_000, intact: true });
      assert.equal(buf.byteLength, 0);
      assert.equal(moves.toWorker, before, "copied through the mailbox");
    } finally {
      ep.peerTakesMoves = true;
    }
  });

  test("transfer() on main checks its arguments", () => {
    const buf = new ArrayBuffer(8);
    assert.equal(transfer(buf), buf, "returns the value itself");
    assert.throws(() => transfer(buf, [buf, buf]), /listed twice/);
    assert.throws(() => transfer(5, []), /value must be an object/);
    assert.throws(() => transfer({}, "nope"), /array of ArrayBuffers/);
    assert.throws(() => transfer({}, [new Uint8Array(2)]), /pass its \.buffer/);
  });
});

describe("transfer() over the async transport (postMessage per call)", () => {
  let w;
  const received = [];
  before(async () => {
    w = new BridgeWorker(FIXTURE, { type: "module", transport: "async" });
    exposeMain(w, received);
    await w.ready;
  });
  after(() => w.terminate());

  test("worker -> main: the transfer list rides on the message", async () => {
    assert.equal((await w.sync.info()).transport, "async");
    const r = await w.sync.sendBufferAsync(1 << 20, 2);
    assert.deepEqual(r, { got: { isBuffer: true, length: 1 << 20, extra: false }, afterLength: 0 });
    assert.ok(checkPattern(received[0], 2));
  });

  test("main -> worker", async () => {
    const buf = makeBuffer(4096, 7);
    assert.deepEqual(await w.sync.receive(transfer(buf), 7), { isBuffer: true, length: 4096, intact: true });
    assert.equal(buf.byteLength, 0);
  });
});

describe("the codec with transfer records", () => {
  test("move mode writes Transferred and lists the buffers; decode gives them back", () => {
    const a = makeBuffer(64, 1);
    const value = transfer({ a, v: new Int16Array(a, 2, 3) }, [a]);
    const xo = transferRecord(true);
    const bytes = encodeValue(value, null, false, xo);
    assert.deepEqual(xo.buffers, [a]);
    assert.ok(bytes.length < 40, "the buffer's bytes are not in the message");
    const back = decodeValue(bytes, null, xo.buffers);
    assert.equal(back.a, a);
    assert.equal(back.v.buffer, a);
    assert.deepEqual([back.v.byteOffset, back.v.length], [2, 3]);
  });

  test("copy mode copies the bytes and still lists the buffers to detach", () => {
    const a = makeBuffer(64, 1);
    const xo = transferRecord(false);
    const bytes = encodeValue(transfer(a), null, false, xo);
    assert.deepEqual(xo.buffers, [a]);
    assert.ok(bytes.length > 64);
    const back = decodeValue(bytes, null);
    assert.ok(back instanceof ArrayBuffer && back !== a && checkPattern(back, 1));
  });

  test("without a record marks are left alone; a failed encode puts them back", () => {
    const a = makeBuffer(8, 1);
    const value = transfer({ a, bad: Symbol("x") }, [a]);
    assert.throws(() => encodeValue(value, null, false, transferRecord(true)), WireError);
    const xo = transferRecord(true);
    value.bad = 1;
    encodeValue(value, null, false, xo);
    assert.deepEqual(xo.buffers, [a], "the mark survived the failed encode");
    assert.throws(() => decodeValue(encodeValue(transfer({ a }, [a]), null, false, transferRecord(true)), null),
      (e) => e instanceof WireError && e.kind === "transferred_buffer" && /#0 of none/.test(e.message));
  });
});
