// The consumer's wait state (slot STATE, docs/protocol.md §4 "Waiting"):
// producers notify only a consumer that does not say it polls, a consumer
// that stops polling finds what came meanwhile, and a spin stops (and turns
// this thread's spins off for a while) when the peer's heartbeat stands still.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Mailbox, channelBytes, toMainOffset, toWorkerOffset, STATE, AWAKE, POLLING, SPINNING, BEAT } from "../src/mailbox.js";
import { SLOT } from "../src/protocol.js";

function channel() {
  const sab = new SharedArrayBuffer(channelBytes(64));
  const box = (off) => new Mailbox(sab, off, 64);
  // Each side's view: its incoming mailbox watches the peer's.
  const main = { in: box(toMainOffset()), out: box(toWorkerOffset(64)) };
  const worker = { in: box(toWorkerOffset(64)), out: box(toMainOffset()) };
  main.in.peer = main.out;
  worker.in.peer = worker.out;
  return { main, worker };
}

test("a consumer that says it polls gets no notify, and finds the frame when it stops polling", async () => {
  const { main, worker } = channel();
  const slice = Mailbox.waitSliceMs;
  Mailbox.waitSliceMs = 60_000; // only a notify can settle the wait below in time
  try {
    // Parked (waitAsync): the producer's notify settles the wait.
    const woken = main.in.waitAsync();
    assert.equal(main.in.hdr[STATE], 0);
    worker.out.sendBlocking(new Uint8Array([1]));
    await woken;
    assert.deepEqual(Array.from(main.in.tryRecv()), [1]);

    // Polling: the frame comes without a notify, so a wait armed before
    // (pending, as the page's is) does not settle; unpoll() says to look.
    const pending = main.in.waitAsync();
    let settled = false;
    pending.then(() => { settled = true; });
    main.in.running();
    assert.equal(main.in.hdr[STATE], AWAKE | POLLING);
    worker.out.sendBlocking(new Uint8Array([2]));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(settled, false, "no notify while the consumer polls");
    assert.equal(main.in.unpoll(), true, "unpoll() reports the frame that came without a notify");
    assert.equal(main.in.hdr[STATE], 0);
    assert.deepEqual(Array.from(main.in.tryRecv()), [2]);
    // From here producers notify again: the pending wait settles.
    worker.out.sendBlocking(new Uint8Array([3]));
    await pending;
    assert.deepEqual(Array.from(main.in.tryRecv()), [3]);
  } finally {
    Mailbox.waitSliceMs = slice;
  }
});

test("a spin goes on while the peer's state moves and stops when its heartbeat stands still", () => {
  const { main, worker } = channel();
  const saved = { stallMs: Mailbox.stallMs, calmAt: Mailbox.calmAt, calmMs: Mailbox.calmMs, backoffMs: Mailbox.backoffMs };
  try {
    Mailbox.calmAt = 0;
    Mailbox.backoffMs = 100;
    // The worker spins (its heartbeat starts); main watches it.
    worker.in.spinBegin(0);
    assert.equal(worker.in.hdr[STATE] & SPINNING, SPINNING);
    main.in.spinBegin(0);
    for (let t = 0.001; t < 0.1; t += 0.001) {
      worker.in.spinOn(t); // a beat each step
      assert.equal(main.in.spinOn(t), true, `the peer beats: spin on (t=${t})`);
    }
    const beat = worker.in.hdr[STATE];
    assert.ok(beat >= (SPINNING | (90 * BEAT)), "the worker's beats show in its STATE");
    // The worker's thread lost its core: no more beats.
    assert.equal(main.in.spinOn(0.1 + Mailbox.stallMs / 2), true, "a moment's pause is not a stall");
    assert.equal(main.in.spinOn(0.1 + Mailbox.stallMs * 2), false, "a heartbeat that stood still ends the spin");
    assert.ok(Mailbox.calmAt > 0.1, "and turns this thread's spins off for a while");
    main.in.spinBegin(0.2);
    worker.in.spinOn(0.2);
    assert.equal(main.in.spinOn(0.2005), false, "spins stay off until calmAt, even with the peer beating");
  } finally {
    Object.assign(Mailbox, saved);
  }
});

test("a parked peer is worth a spin only right after this side woke it", () => {
  const { main, worker } = channel();
  const saved = { calmAt: Mailbox.calmAt, calmMs: Mailbox.calmMs, wakeGraceMs: Mailbox.wakeGraceMs };
  try {
    Mailbox.calmAt = 0;
    // The worker parked (STATE 0); main never woke it: no spin.
    assert.equal(main.out.hdr[STATE], 0);
    main.in.spinBegin(0);
    assert.equal(main.in.spinOn(1000), false);
    // Main's frame notified the parked worker: spin while it wakes.
    main.out.send(new Uint8Array([7]));
    const woke = main.out.woke;
    assert.ok(woke > 0, "the producer noted that it woke a parked consumer");
    main.in.spinBegin(woke);
    assert.equal(main.in.spinOn(woke + Mailbox.wakeGraceMs / 2), true);
    assert.equal(main.in.spinOn(woke + Mailbox.wakeGraceMs * 10), false);
    // The worker runs: main's frames come without a notify.
    worker.in.tryRecv();
    worker.in.running();
    main.out.woke = -Infinity;
    main.out.send(new Uint8Array([8]));
    assert.equal(main.out.woke, -Infinity, "no notify to a consumer that polls");
  } finally {
    Object.assign(Mailbox, saved);
  }
});

test("signs of a crowded machine that keep coming lengthen the back-off; a lone one costs backoffMs", () => {
  const saved = { calmAt: Mailbox.calmAt, calmMs: Mailbox.calmMs, backoffMs: Mailbox.backoffMs, backoffMaxMs: Mailbox.backoffMaxMs };
  try {
    Object.assign(Mailbox, { calmAt: 0, calmMs: 0, backoffMs: 1, backoffMaxMs: 8 });
    Mailbox.crowded(100);
    assert.equal(Mailbox.calmAt, 101, "the first sign: backoffMs");
    // Spins resume at 101; the next sign comes within a back-off's length.
    const lengths = [];
    for (let t = 101.5; lengths.length < 5; t = Mailbox.calmAt + 0.5) {
      Mailbox.crowded(t);
      lengths.push(Mailbox.calmAt - t);
    }
    assert.deepEqual(lengths, [2, 4, 8, 8, 8], "doubles up to backoffMaxMs");
    // A quiet stretch longer than the last back-off: the next sign starts over.
    const t = Mailbox.calmAt + 9;
    Mailbox.crowded(t);
    assert.equal(Mailbox.calmAt - t, 1);
  } finally {
    Object.assign(Mailbox, saved);
  }
});

test("a waitAsync arms no timer, and a close() that lands just before the wait still settles it", async () => {
  const { main, worker } = channel();
  const real = Atomics.waitAsync;
  const calls = [];
  try {
    // V8 arms a timer task for every wait with a time-out, and a wait per
    // main->worker call made those calls slower (docs/benchmarks.md).
    Atomics.waitAsync = (...args) => {
      calls.push(args.length);
      return real(...args);
    };
    const woken = main.in.waitAsync();
    worker.out.sendBlocking(new Uint8Array([1]));
    await woken;
    assert.deepEqual(calls, [3], "waitAsync(hdr, WRITTEN, seen): no time-out");
    assert.deepEqual(Array.from(main.in.tryRecv()), [1]);
    // The other side closes after this side looked at CLOSED and before its
    // waiter is in: that close's notify finds nobody, so the wait must see
    // CLOSED itself, or it never settles.
    Atomics.waitAsync = (...args) => {
      Atomics.store(worker.out.hdr, SLOT.CLOSED, 1); // without a notify
      return real(...args);
    };
    let timer;
    const hang = new Promise((_, no) => { timer = setTimeout(() => no(new Error("the wait never settled after a close")), 5000); });
    await Promise.race([main.in.waitAsync(), hang]);
    clearTimeout(timer);
    assert.equal(main.in.closed, true);
  } finally {
    Atomics.waitAsync = real;
  }
});
