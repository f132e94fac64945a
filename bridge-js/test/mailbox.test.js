// Mailbox tests with real worker_threads over a real SharedArrayBuffer.
// This file is also the worker: `new Worker(thisFile)` runs the branch below.
// The main side uses only non-blocking calls (send / tryRecv / waitAsync /
// flushed), as a browser main thread must.

import { isMainThread, parentPort, workerData, Worker } from "node:worker_threads";
import { Mailbox, MailboxError, channelBytes, HEADER_BYTES, toWorkerOffset } from "../src/mailbox.js";
import { encodeMessageView, decodeMessage } from "../src/wire.js";

// For tuning: MAILBOX_SPIN_US=n overrides the worker's spin budget.
if (process.env.MAILBOX_SPIN_US) Mailbox.spinMicros = Number(process.env.MAILBOX_SPIN_US);

function pattern(n, seed) {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; // xorshift: every byte position matters
    b[i] = x & 0xff;
  }
  return b;
}

function u32(n) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function readU32(b) {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0, true);
}

function openChannel(sab, capacity, maxToMain, maxToWorker) {
  return {
    toMain: new Mailbox(sab, 0, capacity, maxToMain),
    toWorker: new Mailbox(sab, toWorkerOffset(capacity), capacity, maxToWorker),
  };
}

if (!isMainThread) {
  // ------------------------------------------------------------ worker side
  const { sab, capacity, maxToMain, maxToWorker } = workerData;
  const { toMain, toWorker } = openChannel(sab, capacity, maxToMain, maxToWorker);
  const errCode = (f) => {
    try { f(); return "no error"; } catch (e) { return e instanceof MailboxError ? e.code : `${e.name}: ${e.message}`; }
  };
  parentPort.on("message", (cmd) => {
    try {
      switch (cmd.op) {
        case "ping": {
          // Worker-initiated calls, as the bridge does them: send, then block.
          let bad = 0;
          const t0 = performance.now();
          for (let i = 0; i < cmd.n; i++) {
            toMain.sendBlocking(u32(i), 60000);
            const r = toWorker.recvBlocking(60000);
            if (r.length !== 4 || readU32(r) !== (i * 2 + 1) >>> 0) bad++;
          }
          const us = ((performance.now() - t0) * 1000) / cmd.n;
          toMain.sendBlocking(new Uint8Array(0), 60000); // ends the main's serve loop
          parentPort.postMessage({ bad, us });
          break;
        }
        case "calls": {
          // Real wire messages: call("echo", arg) and check the reply's value.
          const arg = cmd.size === 0 ? 1 : "a".repeat(cmd.size - 1) + "\u00e9";
          let bad = 0;
          const t0 = performance.now();
          for (let i = 1; i <= cmd.n; i++) {
            toMain.sendBlocking(encodeMessageView({ t: "request", seq: i, nestedIn: 0, target: 0, op: { t: "call", name: "echo", args: [arg, i] }, releases: [] }), 60000);
            const reply = decodeMessage(toWorker.recvBlocking(60000));
            if (reply.t !== "reply" || reply.seq !== i || !reply.ok || reply.value !== arg) bad++;
          }
          const us = ((performance.now() - t0) * 1000) / cmd.n;
          toMain.sendBlocking(encodeMessageView({ t: "cancel", seq: 0 }), 60000);
          parentPort.postMessage({ bad, us });
          break;
        }
        case "echo": {
          // Echo `count` messages from main back to main.
          for (let i = 0; i < cmd.count; i++) toMain.sendBlocking(toWorker.recvBlocking(60000), 60000);
          parentPort.postMessage({ done: true });
          break;
        }
        case "send": {
          toMain.sendBlocking(pattern(cmd.size, cmd.seed), 60000);
          parentPort.postMessage({ done: true });
          break;
        }
        case "tooLargeLocal": {
          const code = errCode(() => toMain.sendBlocking(new Uint8Array(cmd.size), 1000));
          parentPort.postMessage({ code, written: Atomics.load(new Int32Array(sab, 0, 1), 0) });
          break;
        }
        case "recvExpectTooLarge": {
          const first = errCode(() => toWorker.recvBlocking(60000));
          const next = toWorker.recvBlocking(60000);
          parentPort.postMessage({ first, next: Array.from(next) });
          break;
        }
        case "recvTimeout": {
          const t0 = performance.now();
          const code = errCode(() => toWorker.recvBlocking(cmd.ms));
          const waited = performance.now() - t0;
          parentPort.postMessage({ code, waited, ready: true });
          const after = toWorker.recvBlocking(60000);
          parentPort.postMessage({ after: Array.from(after) });
          break;
        }
        case "sendTimeout": {
          // Main does not read: the multi-frame send times out after frame 1.
          const code = errCode(() => toMain.sendBlocking(pattern(cmd.size, 1), cmd.ms));
          parentPort.postMessage({ code });
          toMain.sendBlocking(pattern(100, 2), 60000);
          parentPort.postMessage({ done: true });
          break;
        }
        case "blockUntilClosed": {
          // A long slice: only close()'s notify can wake the worker in time.
          Mailbox.waitSliceMs = 60_000;
          parentPort.postMessage({ blocking: true });
          const t0 = performance.now();
          let code;
          try { toWorker.recvBlocking(); code = "returned"; } catch (e) { code = e.code; }
          let sendCode;
          try { toMain.sendBlocking(new Uint8Array(1), 1000); sendCode = "sent"; } catch (e) { sendCode = e.code; }
          parentPort.postMessage({ code, sendCode, waited: performance.now() - t0 });
          break;
        }
        default:
          throw new Error(`unknown command ${cmd.op}`);
      }
    } catch (e) {
      parentPort.postMessage({ error: `${e.name}: ${e.message}`, code: e.code });
    }
  });
} else {
  // ------------------------------------------------------------ main side
  const { test, after } = await import("node:test");
  // A failed assertion must not leave a worker running (the file would hang).
  const workers = new Set();
  after(() => Promise.all([...workers].map((w) => w.terminate())));
  const assert = (await import("node:assert/strict")).default;
  const { once } = await import("node:events");

  function start({ capacity = 4096, maxToMain = 64 << 20, maxToWorker = 64 << 20, mainMaxToMain = maxToMain, mainMaxToWorker = maxToWorker } = {}) {
    const sab = new SharedArrayBuffer(channelBytes(capacity));
    const worker = new Worker(new URL(import.meta.url), { workerData: { sab, capacity, maxToMain, maxToWorker } });
    workers.add(worker);
    // The main thread's own view may use a different maxMessage than the worker's.
    const ch = openChannel(sab, capacity, mainMaxToMain, mainMaxToWorker);
    const next = () => once(worker, "message").then(([m]) => {
      if (m.error) throw new Error(`worker failed: ${m.error}`);
      return m;
    });
    return { sab, worker, next, ...ch };
  }

  // Non-blocking receive: tryRecv, else await waitAsync.
  async function recv(mb) {
    for (;;) {
      const m = mb.tryRecv();
      if (m !== null) return m;
      if (mb.closed) throw new Error("closed");
      await mb.waitAsync();
    }
  }

  test("channel layout", () => {
    assert.equal(HEADER_BYTES, 32);
    assert.equal(channelBytes(4096), 2 * (32 + 4096));
    assert.equal(toWorkerOffset(4096), 32 + 4096);
    assert.throws(() => channelBytes(4095), RangeError);
    assert.throws(() => new Mailbox(new SharedArrayBuffer(100), 0, 4096), RangeError);
  });

  test("100k ping-pong round trips with correct results", async () => {
    const { worker, next, toMain, toWorker } = start({ capacity: 1 << 16 });
    const done = next();
    worker.postMessage({ op: "ping", n: 100_000 });
    let served = 0;
    serve: for (;;) {
      let req;
      while ((req = toMain.tryRecv()) === null) await toMain.waitAsync();
      // Drain every request already there before yielding to the event loop.
      do {
        if (req.length === 0) break serve;
        toWorker.send(u32((readU32(req) * 2 + 1) >>> 0));
        served++;
      } while ((req = toMain.tryRecv()) !== null);
    }
    const { bad, us } = await done;
    assert.equal(served, 100_000);
    assert.equal(bad, 0);
    console.log(`# mailbox round trip (worker -> main -> worker, 4-byte payloads): ${us.toFixed(2)} us`);
    await worker.terminate();
  });

  for (const [label, size, n] of [["small args", 0, 20_000], ["64 KiB string argument and result", 65536, 2000]]) {
    test(`wire-encoded calls through the mailboxes: ${label}`, async () => {
      const { worker, next, toMain, toWorker } = start({ capacity: 1 << 20 });
      const done = next();
      worker.postMessage({ op: "calls", n, size });
      let served = 0;
      serve: for (;;) {
        let bytes;
        while ((bytes = toMain.tryRecv()) === null) await toMain.waitAsync();
        // Drain every request already there before yielding.
        do {
          const msg = decodeMessage(bytes);
          if (msg.t === "cancel") break serve;
          toWorker.send(encodeMessageView({ t: "reply", seq: msg.seq, ok: true, value: msg.op.args[0], releases: [] }));
          served++;
        } while ((bytes = toMain.tryRecv()) !== null);
      }
      const { bad, us } = await done;
      assert.equal(served, n);
      assert.equal(bad, 0);
      console.log(`# wire call round trip, ${label}: ${us.toFixed(2)} us`);
      await worker.terminate();
    });
  }

  test("0 B, capacity, capacity+1 and 8 MiB messages in both directions (4 KiB slot)", async () => {
    const capacity = 4096;
    const { worker, next, toMain, toWorker } = start({ capacity });
    const sizes = [0, capacity, capacity + 1, 3 * capacity - 1, 8 << 20];
    // main -> worker -> main: the main thread is a non-blocking producer and consumer.
    const done = next();
    worker.postMessage({ op: "echo", count: sizes.length });
    for (const [i, n] of sizes.entries()) {
      const msg = pattern(n, i + 1);
      const wroteAll = toWorker.send(msg);
      // One frame always goes at once into the free slot; more frames may too
      // if the worker is quick, so only the first case is certain.
      if (n <= capacity) assert.equal(wroteAll, true, `send of ${n} bytes fits one frame and completes at once`);
      msg.fill(0); // a queued tail must be the mailbox's own copy
      const back = await recv(toMain);
      await toWorker.flushed();
      assert.equal(back.length, n);
      assert.ok(Buffer.from(back).equals(Buffer.from(pattern(n, i + 1))), `echo of ${n} bytes intact`);
    }
    await done;
    // worker -> main only.
    for (const [i, n] of sizes.entries()) {
      const sent = next();
      worker.postMessage({ op: "send", size: n, seed: 100 + i });
      const got = await recv(toMain);
      await sent;
      assert.ok(Buffer.from(got).equals(Buffer.from(pattern(n, 100 + i))), `worker message of ${n} bytes intact`);
    }
    await worker.terminate();
  });

  test("several queued sends from main arrive in order", async () => {
    const { worker, next, toMain, toWorker } = start({ capacity: 64 });
    const done = next();
    worker.postMessage({ op: "echo", count: 20 });
    const msgs = Array.from({ length: 20 }, (_, i) => pattern(i * 37, i + 7));
    for (const m of msgs) toWorker.send(m);
    for (const [i, m] of msgs.entries()) {
      const back = await recv(toMain);
      assert.ok(Buffer.from(back).equals(Buffer.from(m)), `message ${i} intact and in order`);
    }
    await toWorker.flushed();
    await done;
    await worker.terminate();
  });

  test("too-large messages are refused by the sender before anything is written", async () => {
    const { worker, next, toWorker } = start({ maxToMain: 1000, maxToWorker: 1000 });
    assert.throws(() => toWorker.send(new Uint8Array(1001)), (e) => e instanceof MailboxError && e.code === "too-large" && /maxMessage/.test(e.message));
    assert.equal(Atomics.load(toWorker.hdr, 0), 0, "nothing written");
    worker.postMessage({ op: "tooLargeLocal", size: 1001 });
    const { code, written } = await next();
    assert.equal(code, "too-large");
    assert.equal(written, 0);
    await worker.terminate();
  });

  test("too-large messages are refused by the receiver, which then goes on", async () => {
    // Main's consumer allows 5000 bytes, the worker's producer 1 MiB.
    const { worker, next, toMain, toWorker } = start({ capacity: 4096, mainMaxToMain: 5000, mainMaxToWorker: 1 << 20, maxToWorker: 5000 });
    // worker -> main: 3 frames, refused by main at the first; the worker's
    // blocking send goes on as main drops the rest while receiving the next.
    const sent = next();
    worker.postMessage({ op: "send", size: 9000, seed: 3 });
    await assert.rejects(recv(toMain), (e) => e instanceof MailboxError && e.code === "too-large" && /5000/.test(e.message));
    const sent2 = sent.then(next);
    worker.postMessage({ op: "send", size: 10, seed: 4 });
    const ok = await recv(toMain);
    await sent2;
    assert.ok(Buffer.from(ok).equals(Buffer.from(pattern(10, 4))), "next message intact");
    // main -> worker: refused by the worker's consumer.
    const res = next();
    worker.postMessage({ op: "recvExpectTooLarge" });
    toWorker.send(pattern(9000, 5));
    toWorker.send(Uint8Array.of(7, 8, 9));
    const { first, next: after } = await res;
    assert.equal(first, "too-large");
    assert.deepEqual(after, [7, 8, 9]);
    await worker.terminate();
  });

  test("a timed-out recvBlocking leaves the mailbox usable", async () => {
    const { worker, next, toWorker } = start();
    worker.postMessage({ op: "recvTimeout", ms: 50 });
    const { code, waited } = await next();
    assert.equal(code, "timeout");
    assert.ok(waited >= 45, `waited ${waited} ms for a 50 ms time-out`);
    const res = next();
    toWorker.send(Uint8Array.of(1, 2, 3));
    assert.deepEqual((await res).after, [1, 2, 3]);
    await worker.terminate();
  });

  test("a timed-out multi-frame sendBlocking is aborted and the next message is intact", async () => {
    const { worker, next, toMain } = start({ capacity: 64 });
    worker.postMessage({ op: "sendTimeout", size: 1000, ms: 50 });
    const { code } = await next();
    assert.equal(code, "timeout");
    const sent = next();
    const got = await recv(toMain); // consumes frame 1, the ABORT, then the whole next message
    await sent;
    assert.ok(Buffer.from(got).equals(Buffer.from(pattern(100, 2))), "the message after the abort arrives whole");
    await worker.terminate();
  });

  test("a declared message length is not reserved up front: the buffer grows with the frames", () => {
    // One byte that declares 255 MiB (allowed by maxMessage 256 MiB) made
    // main reserve 255 MiB per worker; now it reserves what arrived.
    const capacity = 64;
    const sab = new SharedArrayBuffer(channelBytes(capacity));
    const mb = new Mailbox(sab, 0, capacity, 256 << 20);
    const hdr = new Int32Array(sab, 0, 8);
    const frame = (bytes, msgLen, flags) => {
      new Uint8Array(sab, HEADER_BYTES, capacity).set(bytes);
      hdr[2] = bytes.length; hdr[3] = msgLen; hdr[4] = flags;
      Atomics.add(hdr, 0, 1);
    };
    frame([7], 255 << 20, 1 /* FIRST */);
    assert.equal(mb.tryRecv(), null);
    assert.ok(mb.partial !== null && mb.partial.length <= capacity, `reserved ${mb.partial?.length} bytes`);
    // The rest of an honest 1000-byte message arrives whole after an ABORT.
    frame([], 0, 4 /* ABORT */);
    assert.equal(mb.tryRecv(), null);
    const msg = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31) & 255);
    for (let at = 0; at < msg.length; at += capacity) {
      const chunk = msg.subarray(at, at + capacity);
      frame(chunk, msg.length, (at === 0 ? 1 : 0) | (at + capacity >= msg.length ? 2 : 0));
      const got = mb.tryRecv();
      if (at + capacity < msg.length) {
        assert.equal(got, null);
        assert.ok(mb.partial.length <= 2 * (at + chunk.length), `reserved ${mb.partial.length} bytes after ${at + chunk.length}`);
      } else {
        assert.deepEqual(got, msg);
        assert.equal(got.buffer.byteLength, msg.length);
      }
    }
  });

  test("close() wakes a blocked worker with code closed", async () => {
    const { worker, next, toMain, toWorker } = start();
    worker.postMessage({ op: "blockUntilClosed" });
    await next(); // the worker is about to block
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    // toMain first: the worker, once woken, sends on it and must find it
    // closed (the other order raced the worker's send on a loaded machine).
    toMain.close();
    toWorker.close();
    const { code, sendCode } = await next();
    assert.equal(code, "closed");
    assert.equal(sendCode, "closed");
    assert.ok(performance.now() - t0 < 20_000, "woken by close(), not by the 60 s wait slice");
    assert.throws(() => toWorker.send(new Uint8Array(1)), (e) => e.code === "closed");
    assert.equal(await toMain.waitAsync(), undefined, "waitAsync resolves on a closed mailbox");
    await worker.terminate();
  });
}
