// The frame protocol of docs/protocol.md §4 over a SharedArrayBuffer.
//
// One Mailbox is a single-producer single-consumer slot carrying one frame at
// a time; a message larger than the slot travels as several frames. Both ends
// construct a Mailbox over the same bytes and each uses its half of the API:
// the producer `send` / `sendBlocking` / `flushed`, the consumer `tryRecv` /
// `recvBlocking` / `waitAsync`. The main thread uses only the non-blocking
// calls (send, tryRecv, waitAsync, flushed), as a browser main thread must.

import { DEFAULT_MAX_MESSAGE, HEADER_BYTES, SLOT, FLAG, WAIT_STATE, MAX_LEN } from "./protocol.js";

export { HEADER_BYTES };

// i32 slots of the header, and the frame flags (the layout is protocol.js's).
const { WRITTEN, READ, FRAME_LEN, MSG_LEN, FLAGS, CLOSED } = SLOT;
const { FIRST, LAST, ABORT } = FLAG;
const MAX_MSG_LEN = MAX_LEN;

// The consumer's wait state, slot STATE (docs/protocol.md §4, "Waiting"):
// AWAKE: its thread is running, so a peer waiting for it may spin; POLLING:
// it will look at WRITTEN again before it parks, so a producer need not
// notify; SPINNING: it is polling now, and adds BEAT to the slot as it goes
// (a heartbeat: a value that stops changing means its thread lost the core).
// 0 is "parked, or does not say": the producer notifies.
export const STATE = SLOT.STATE;
export const { AWAKE, POLLING, SPINNING, BEAT } = WAIT_STATE;
const RUNNING = AWAKE | POLLING;

const hasWaitAsync = typeof Atomics.waitAsync === "function";
const pause = typeof Atomics.pause === "function" ? Atomics.pause : null;

/** Byte length of the SharedArrayBuffer holding both mailboxes of a channel (whose sizes it checks). */
export function channelBytes(capacity, maxMessage) {
  checkSizes(capacity, maxMessage);
  return 2 * (HEADER_BYTES + capacity);
}

/** Offsets of the two mailboxes in a channel (to_main first). */
export function toMainOffset() {
  return 0;
}
export function toWorkerOffset(capacity) {
  return HEADER_BYTES + capacity;
}

function checkSizes(capacity, maxMessage = DEFAULT_MAX_MESSAGE) {
  if (!Number.isInteger(capacity) || capacity <= 0 || capacity % 8 !== 0 || capacity > MAX_MSG_LEN) {
    throw new RangeError(`mailbox capacity must be a positive multiple of 8 bytes, got ${String(capacity)}`);
  }
  if (!Number.isInteger(maxMessage) || maxMessage < 0 || maxMessage > MAX_MSG_LEN) {
    throw new RangeError(`maxMessage must be an integer in 0..${MAX_MSG_LEN}, got ${String(maxMessage)}`);
  }
}

export class MailboxError extends Error {
  /** code: "timeout" | "closed" | "too-large" | "protocol" */
  constructor(code, message) {
    super(message);
    this.name = "MailboxError";
    this.code = code;
  }
}

function closedError() {
  return new MailboxError("closed", "the channel is closed (the worker was terminated or the bridge shut down); create a new one to go on");
}

export class Mailbox {
  /**
   * How long (microseconds) a blocking wait polls the slot before it parks in
   * Atomics.wait. Parking and waking costs tens of microseconds and a reply
   * from a main thread that drains at once usually comes sooner; tuned with
   * the round-trip figures printed by test/mailbox.test.js.
   */
  static spinMicros = 50;

  /**
   * Waits park in slices of this many ms and re-check, so a wake-up that
   * races a close() costs at most one slice; close() itself wakes at once.
   */
  static waitSliceMs = 200;

  /**
   * A spinning side stops once its peer's heartbeat (see STATE) stood still
   * this long (ms): the peer's thread lost its core, so the spin only takes
   * the core it needs.
   */
  static stallMs = 0.02;

  /**
   * After waking a parked peer, a side still spins this long (ms) for its
   * answer: the peer is on its way and a park would add a wake-up of our own.
   */
  static wakeGraceMs = 0.05;

  /**
   * A spin that met an oversubscribed machine (a spinning peer's heartbeat
   * stood still, or a peer we woke did not run within wakeGraceMs) turns
   * every spin of this thread off for this long (ms): waits park at once.
   * The evidence comes from the scheduler, not from the peer's choices.
   * Short: the same signs come now and then on an idle machine (a GC pause,
   * a Python worker between two calls), and 100 ms of parking then cost
   * Python-level calls 2-4x (docs/benchmarks.md, "Back-off length");
   * on a crowded machine they recur within the millisecond anyway.
   */
  static backoffMs = 1;

  /**
   * A sign that comes within a back-off's length after the last one ended
   * doubles the next back-off, up to this many ms. 1 (no doubling) by
   * default: on a quiet machine the signs come in runs too, and a cap of
   * 64 ms cost Python-level reads and sync calls 1.5-2x (docs/benchmarks.md,
   * "Doubling back-offs, on a quiet machine"); a page that knows its machine
   * is crowded may raise it.
   */
  static backoffMaxMs = 1;

  // performance.now() until which this thread parks at once (see backoffMs),
  // and the length of the last back-off.
  static calmAt = 0;
  static calmMs = 0;

  /** A sign of a crowded machine at time `t` (ms): spins off for a while. */
  static crowded(t) {
    const m = t - Mailbox.calmAt < Mailbox.calmMs ? Math.min(2 * Mailbox.calmMs, Mailbox.backoffMaxMs) : Mailbox.backoffMs;
    Mailbox.calmMs = m;
    Mailbox.calmAt = t + m;
  }

  constructor(sab, byteOffset, capacity, maxMessage = DEFAULT_MAX_MESSAGE) {
    checkSizes(capacity, maxMessage);
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % 8 !== 0) {
      throw new RangeError(`mailbox byteOffset must be a non-negative multiple of 8, got ${byteOffset}`);
    }
    if (byteOffset + HEADER_BYTES + capacity > sab.byteLength) {
      throw new RangeError(`mailbox at ${byteOffset} with capacity ${capacity} does not fit in a buffer of ${sab.byteLength} bytes; size it with channelBytes(capacity)`);
    }
    this.hdr = new Int32Array(sab, byteOffset, HEADER_BYTES / 4);
    this.data = new Uint8Array(sab, byteOffset + HEADER_BYTES, capacity);
    this.capacity = capacity;
    this.maxMessage = maxMessage;

    // Producer state. `written` mirrors WRITTEN: only the producer stores it.
    this.written = Atomics.load(this.hdr, WRITTEN);
    this.queue = []; // messages not yet fully written (see writeFrames)
    this.abortPending = false; // a message was given up mid-way: ABORT next
    this.pumpArmed = false;
    this.flushWaiters = [];

    // Consumer state. `read` mirrors READ: only the consumer stores it.
    this.read = Atomics.load(this.hdr, READ);
    this.partial = null; // the message being assembled (grows as frames arrive)
    this.partialPos = 0;
    this.partialLen = 0; // its declared length, MSG_LEN
    this.discarding = false; // skipping a too-large message up to LAST

    // Spin policy (consumer). `peer`: the mailbox the other side consumes,
    // whose STATE says whether that side runs (set by the transport; null:
    // spin the full spinMicros as before). `woke`: when this side last
    // notified a parked consumer of this mailbox (producer).
    this.peer = null;
    this.woke = -Infinity;
    this.peerSeen = 0;
    this.peerSince = 0;
    this.asyncWaits = 0; // waitAsync promises not settled yet
    this._asyncDone = () => {
      this.asyncWaits--;
    };
  }

  get closed() {
    return Atomics.load(this.hdr, CLOSED) !== 0;
  }

  // ------------------------------------------------------------ producer

  checkSendable(bytes) {
    if (!(bytes instanceof Uint8Array)) throw new TypeError("Mailbox send expects a Uint8Array");
    if (bytes.length > this.maxMessage) {
      throw new MailboxError("too-large", `message of ${bytes.length} bytes exceeds maxMessage (${this.maxMessage} bytes); send less data per call or raise maxMessage on both sides`);
    }
    if (this.closed) throw closedError();
  }

  slotFree() {
    return Atomics.load(this.hdr, READ) === this.written;
  }

  writeFrame(chunk, msgLen, flags) {
    const hdr = this.hdr;
    if (chunk.length !== 0) this.data.set(chunk, 0);
    hdr[FRAME_LEN] = chunk.length;
    hdr[MSG_LEN] = msgLen;
    hdr[FLAGS] = flags;
    // The seq-cst store publishes the plain writes above to the consumer.
    this.written = (this.written + 1) | 0;
    Atomics.store(hdr, WRITTEN, this.written);
    // A consumer that says it polls sees the frame without a wake-up: it
    // re-reads WRITTEN after clearing POLLING and before it parks (seq-cst
    // on both sides, so one of the two always sees the other's store).
    if ((Atomics.load(hdr, STATE) & POLLING) === 0) {
      Atomics.notify(hdr, WRITTEN);
      this.woke = performance.now();
    }
  }

  // Writes frames of `m` while the slot is free; true when `m` is complete.
  // `m.bytes` holds the message from byte `m.base` on; `m.off` is the next
  // byte to write, counted from the start of the message.
  writeFrames(m) {
    const total = m.total;
    const cap = this.capacity;
    while (this.slotFree()) {
      if (this.abortPending) {
        this.writeFrame(m.bytes.subarray(0, 0), 0, ABORT);
        this.abortPending = false;
        continue;
      }
      const off = m.off;
      const end = total - off > cap ? off + cap : total;
      const flags = (off === 0 ? FIRST : 0) | (end === total ? LAST : 0);
      this.writeFrame(m.bytes.subarray(off - m.base, end - m.base), total, flags);
      m.off = end;
      if (end === total) return true;
    }
    return false;
  }

  /**
   * Non-blocking send (main thread). Writes now if the slot is free and
   * returns true; otherwise keeps a copy of what is not written yet, writes
   * it as the consumer frees the slot, and returns false (await flushed()).
   */
  send(bytes) {
    this.checkSendable(bytes);
    const m = { bytes, base: 0, off: 0, total: bytes.length };
    if (this.queue.length === 0 && this.writeFrames(m)) return true;
    // The caller may reuse its buffer (wire.encodeMessageView): keep a copy
    // of the unwritten tail only.
    m.bytes = bytes.slice(m.off);
    m.base = m.off;
    this.queue.push(m);
    this.armPump();
    return false;
  }

  armPump() {
    if (this.pumpArmed) return;
    this.pumpArmed = true;
    if (!hasWaitAsync) {
      // No Atomics.waitAsync: poll the slot from a timer (slow but never blocks).
      setTimeout(() => this.pump(), 0);
      return;
    }
    const seen = Atomics.load(this.hdr, READ);
    if (seen === this.written) {
      queueMicrotask(() => this.pump());
      return;
    }
    const res = Atomics.waitAsync(this.hdr, READ, seen, Mailbox.waitSliceMs);
    if (!res.async) queueMicrotask(() => this.pump());
    else res.value.then(() => this.pump());
  }

  pump() {
    this.pumpArmed = false;
    if (this.closed) {
      this.queue.length = 0;
      this.settleFlush(closedError());
      return;
    }
    while (this.queue.length !== 0) {
      if (!this.writeFrames(this.queue[0])) {
        this.armPump();
        return;
      }
      this.queue.shift();
    }
    this.settleFlush(null);
  }

  settleFlush(err) {
    const waiters = this.flushWaiters;
    if (waiters.length === 0) return;
    this.flushWaiters = [];
    for (const w of waiters) {
      if (err) w.reject(err);
      else w.resolve();
    }
  }

  /** Resolves when every queued message has been written into the slot. */
  flushed() {
    if (this.queue.length === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => this.flushWaiters.push({ resolve, reject }));
  }

  /**
   * Blocking send (worker): waits with Atomics.wait until each frame fits.
   * Throws MailboxError "timeout" (a later message starts with an ABORT frame
   * so the consumer drops the partial one) or "closed".
   */
  sendBlocking(bytes, timeoutMs = Infinity) {
    this.checkSendable(bytes);
    if (this.queue.length !== 0) {
      throw new MailboxError("protocol", "sendBlocking while non-blocking sends are still queued on this mailbox; use one kind of send per producer");
    }
    const deadline = timeoutMs === Infinity || timeoutMs == null ? Infinity : performance.now() + timeoutMs;
    const m = { bytes, base: 0, off: 0, total: bytes.length };
    for (;;) {
      if (this.writeFrames(m)) return;
      const seen = Atomics.load(this.hdr, READ);
      if (seen === this.written) continue;
      if (!this.waitChange(READ, seen, deadline)) {
        if (m.off !== 0) this.abortPending = true;
        if (this.closed) throw closedError();
        throw new MailboxError("timeout", `timed out after ${timeoutMs} ms waiting for the other side to read the mailbox; it may be busy or blocked`);
      }
      if (this.closed) {
        if (m.off !== 0) this.abortPending = true;
        throw closedError();
      }
    }
  }

  // Spins, then parks until hdr[slot] !== seen. False on deadline or close.
  // Waiting for a frame (slot WRITTEN), it says so in STATE and spins only
  // while the peer runs (see spinOn).
  waitChange(slot, seen, deadline) {
    const hdr = this.hdr;
    const consumer = slot === WRITTEN;
    // Poll in bursts, reading the clock between bursts only.
    let t = performance.now();
    const spinEnd = consumer && t < Mailbox.calmAt ? t : t + Mailbox.spinMicros / 1000;
    if (consumer) this.spinBegin(t);
    while (t < spinEnd) {
      for (let i = 0; i < 64; i++) {
        if (Atomics.load(hdr, slot) !== seen) {
          if (consumer) Atomics.store(hdr, STATE, this.awakeState());
          return true;
        }
        if (pause !== null) pause(i);
      }
      t = performance.now();
      if (consumer && !this.spinOn(t)) break;
    }
    const ok = this.park(slot, seen, deadline);
    if (consumer) Atomics.store(hdr, STATE, this.awakeState());
    return ok;
  }

  park(slot, seen, deadline) {
    const hdr = this.hdr;
    // From here a producer must notify: clear POLLING before the last look
    // (Atomics.wait compares the slot atomically).
    if (slot === WRITTEN) Atomics.store(hdr, STATE, 0);
    for (;;) {
      if (Atomics.load(hdr, CLOSED) !== 0) return false;
      let slice = Mailbox.waitSliceMs;
      if (deadline !== Infinity) {
        const left = deadline - performance.now();
        if (left <= 0) return Atomics.load(hdr, slot) !== seen;
        if (left < slice) slice = left;
      }
      if (Atomics.wait(hdr, slot, seen, slice) !== "timed-out") {
        if (Atomics.load(hdr, slot) !== seen) return true;
      }
    }
  }

  // ------------------------------------------------------------ consumer

  /**
   * Consumes available frames; returns a complete message (a non-shared
   * Uint8Array) or null when none is complete yet. Throws MailboxError
   * "too-large" once for a message over maxMessage (its frames are then
   * dropped).
   *
   * What a received message may be used for: a message in one frame is
   * copied into a buffer this thread reuses (shared by its mailboxes), so
   * it is valid only until the next receive on this thread (tryRecv or
   * recvBlocking, any mailbox); one of several frames is a fresh array.
   * That is safe because no caller keeps the bytes or anything that views
   * them:
   * - Every caller (Endpoint's waitReply, spinLoop and pump; the
   *   service-worker, postMessage and Rust transports have receives of
   *   their own) decodes the message at once and drops it.
   * - The decoder (wire.js) copies what it returns: an ArrayBuffer, a
   *   typed array or a DataView gets a fresh buffer (copyOut), strings are
   *   built (String.fromCharCode, TextDecoder), numbers and BigInts are
   *   computed. Nothing is decoded lazily, so a message kept while a nested
   *   call receives another (a reply stashed for an outer call, a request
   *   queued for the event loop, Python code that calls back) holds
   *   decoded values only. The Python layers, coincident's API and the
   *   Rust glue see decoded values, never these bytes.
   * - The one way to receive while a message is still being decoded is code
   *   the decoder runs: a setter on Object.prototype (an object's key is
   *   assigned) that makes a sync call. Endpoint counts its decodes in
   *   Mailbox.decoding, and while one runs, take copies into a fresh array.
   * bridge-js/test/aliasing.test.js checks all of this, and fails if a
   * decoded array views the message.
   */
  tryRecv() {
    const hdr = this.hdr;
    for (;;) {
      const w = Atomics.load(hdr, WRITTEN);
      if (w === this.read) return null;
      const flags = hdr[FLAGS];
      const len = hdr[FRAME_LEN];
      const total = hdr[MSG_LEN];
      if ((flags & (FIRST | LAST | ABORT)) === (FIRST | LAST) && len === total && this.partial === null && !this.discarding) {
        // The common case: the whole message in one frame.
        if (total > this.maxMessage) {
          this.consume(w);
          throw this.tooLarge(total);
        }
        const out = this.take(len);
        this.consume(w);
        return out;
      }
      if (len < 0 || len > this.capacity || total < 0) {
        this.consume(w);
        this.reset();
        throw new MailboxError("protocol", `corrupt frame header (frame ${len} bytes, message ${total} bytes); the other side is not speaking this protocol`);
      }
      if (flags & ABORT) {
        this.consume(w);
        this.reset();
        continue;
      }
      if (flags & FIRST) {
        // A FIRST while assembling means the previous message was cut off.
        this.reset();
        if (total > this.maxMessage) {
          this.discarding = (flags & LAST) === 0;
          this.consume(w);
          throw this.tooLarge(total);
        }
        // MSG_LEN is only the producer's claim: reserve what this frame
        // brings and grow with the frames that follow (below).
        this.partial = new Uint8Array(Math.min(total, len));
        this.partialLen = total;
      } else if (this.discarding) {
        if (flags & LAST) this.discarding = false;
        this.consume(w);
        continue;
      } else if (this.partial === null) {
        this.consume(w);
        throw new MailboxError("protocol", "a continuation frame arrived without a FIRST frame; the other side is not speaking this protocol");
      }
      let p = this.partial;
      if (len > this.partialLen - this.partialPos) {
        this.consume(w);
        this.reset();
        throw new MailboxError("protocol", "frames overflow their declared message length; the other side is not speaking this protocol");
      }
      if (len > p.length - this.partialPos) {
        // Double, never past MSG_LEN: amortised O(n) copies, and the
        // buffer is exactly MSG_LEN long once the last byte is in.
        const grown = new Uint8Array(Math.min(this.partialLen, Math.max(this.partialPos + len, 2 * p.length)));
        grown.set(p.subarray(0, this.partialPos));
        this.partial = p = grown;
      }
      if (len !== 0) p.set(this.data.subarray(0, len), this.partialPos);
      this.partialPos += len;
      this.consume(w);
      if (flags & LAST) {
        const complete = this.partialPos === this.partialLen;
        this.reset();
        if (!complete) throw new MailboxError("protocol", "LAST frame before the declared message length; the other side is not speaking this protocol");
        return p;
      }
    }
  }

  /**
   * Messages being decoded on this thread now (Endpoint counts them): while
   * one is, a receive (a sync call made by code the decoder ran) must not
   * reuse the buffer that message is still read from (see tryRecv).
   */
  static decoding = 0;

  /**
   * The buffer this thread reads single-frame messages into (see tryRecv),
   * grown to the largest one and kept. A single frame is at most the
   * mailbox's capacity, which the channel's shared memory already holds
   * twice. A fresh array per large message costs its page faults: a 64 KiB
   * copy takes about 5 us into a warm buffer and 55 into a new one.
   */
  static scratch = new Uint8Array(4096);

  /** A single-frame message of `len` bytes out of shared memory, as tryRecv returns it. */
  take(len) {
    let s = Mailbox.scratch;
    if (Mailbox.decoding !== 0) s = new Uint8Array(len);
    else if (len > s.length) s = Mailbox.scratch = new Uint8Array(len);
    s = s.subarray(0, len);
    s.set(this.data.subarray(0, len));
    return s;
  }

  consume(w) {
    this.read = w;
    Atomics.store(this.hdr, READ, w);
    Atomics.notify(this.hdr, READ);
  }

  reset() {
    this.partial = null;
    this.partialPos = 0;
    this.partialLen = 0;
    this.discarding = false;
  }

  tooLarge(n) {
    return new MailboxError("too-large", `incoming message of ${n} bytes exceeds maxMessage (${this.maxMessage} bytes); it was dropped. Raise maxMessage on both sides or send less data per call`);
  }

  /**
   * Blocking receive (worker): spins briefly, then parks in Atomics.wait.
   * Throws MailboxError "timeout" (the mailbox stays usable: a partial
   * message is kept and completed by the next call) or "closed".
   */
  recvBlocking(timeoutMs = Infinity) {
    const deadline = timeoutMs === Infinity || timeoutMs == null ? Infinity : performance.now() + timeoutMs;
    for (;;) {
      const m = this.tryRecv();
      if (m !== null) return m;
      if (this.closed) throw closedError();
      if (!this.waitChange(WRITTEN, this.read, deadline)) {
        if (this.closed) throw closedError();
        throw new MailboxError("timeout", `no message within ${timeoutMs} ms; the other side may be busy, or raise the timeout`);
      }
    }
  }

  /**
   * A Promise that resolves when a frame is waiting (at once if one is), or
   * null when the runtime lacks Atomics.waitAsync (use a doorbell message).
   * It may also resolve with nothing new (close(), a time slice): call
   * tryRecv and check `closed`, then wait again.
   */
  waitAsync() {
    if (!hasWaitAsync) return null;
    const hdr = this.hdr;
    if (Atomics.load(hdr, CLOSED) !== 0) return Promise.resolve();
    // Parked from here: producers notify (waitAsync compares atomically).
    Atomics.store(hdr, STATE, 0);
    // No time-out: one makes V8 arm a timer task per wait, and it cost a
    // main->worker call several microseconds (docs/benchmarks.md,
    // "Main->worker calls"). A close() between the check above and the wait
    // is caught by looking at CLOSED again once the waiter is in: close()
    // stores CLOSED before it notifies, so either its notify finds this
    // waiter or this look sees CLOSED (then wake the waiter ourselves).
    const res = Atomics.waitAsync(hdr, WRITTEN, this.read);
    if (!res.async) return Promise.resolve();
    if (Atomics.load(hdr, CLOSED) !== 0) Atomics.notify(hdr, WRITTEN);
    this.asyncWaits++;
    return res.value.then(this._asyncDone);
  }

  // ------------------------------------------------------------ wait state (consumer)

  /**
   * Producer: the consumer says it will look at WRITTEN again before it
   * parks (read after storing WRITTEN, as writeFrame does: else it is told).
   */
  peerPolls() {
    return (Atomics.load(this.hdr, STATE) & POLLING) !== 0;
  }

  /** This side runs and will look at the slot before it parks. */
  running() {
    Atomics.store(this.hdr, STATE, RUNNING);
  }

  // Running, after a blocking wait or a spin: POLLING only if no waitAsync
  // is pending, since code that returns to the event loop then relies on it
  // (and on a notify) without another look.
  awakeState() {
    return this.asyncWaits === 0 ? RUNNING : AWAKE;
  }

  /**
   * This side relies on a notify from now on (it may go on running, `awake`,
   * so a peer may still spin for it). True if a frame is already waiting:
   * one written while this side said it polls came without a notify, so
   * look (tryRecv) instead of waiting.
   */
  unpoll(awake = false) {
    Atomics.store(this.hdr, STATE, awake ? AWAKE : 0);
    return Atomics.load(this.hdr, WRITTEN) !== this.read;
  }

  /**
   * Parks this thread (Atomics.wait, worker only) up to `ms` for a frame;
   * true if one came (or close() woke it: check `closed`). Parked: the
   * producer notifies, and its notify wakes the thread directly, without
   * the event-loop task a waitAsync wake-up costs.
   */
  parkFor(ms) {
    Atomics.store(this.hdr, STATE, 0);
    return Atomics.wait(this.hdr, WRITTEN, this.read, ms) !== "timed-out";
  }

  /** The STATE value now, to hand back to endState after a spin. */
  get state() {
    return Atomics.load(this.hdr, STATE);
  }

  /** Starts a spin for a frame: says so in STATE (the heartbeat starts). */
  spinBegin(t) {
    Atomics.store(this.hdr, STATE, RUNNING | SPINNING);
    this.peerSeen = this.peer === null ? 0 : Atomics.load(this.peer.hdr, STATE);
    this.peerSince = t;
  }

  /**
   * One step of a spin at time `t` (ms): beats the heartbeat and says
   * whether spinning on is worth it. It is while the peer runs on a core:
   * awake and, if it spins too, its heartbeat moving; or parked, but woken
   * by us moments ago. The caller bounds the spin by time as well.
   */
  spinOn(t) {
    const hdr = this.hdr;
    Atomics.store(hdr, STATE, (Atomics.load(hdr, STATE) + BEAT) | 0);
    const peer = this.peer;
    if (peer === null) return true;
    if (t < Mailbox.calmAt) return false;
    const s = Atomics.load(peer.hdr, STATE);
    if ((s & AWAKE) === 0) {
      const since = t - peer.woke;
      if (since < Mailbox.wakeGraceMs) return true;
      // Woken by us and still not running: no core was free for it.
      if (since < 2 * Mailbox.wakeGraceMs) Mailbox.crowded(t);
      return false;
    }
    if (s !== this.peerSeen) {
      this.peerSeen = s;
      this.peerSince = t;
      return true;
    }
    if (t - this.peerSince < Mailbox.stallMs) return true;
    // A spinning peer whose heartbeat stood still lost its core.
    if ((s & SPINNING) !== 0) Mailbox.crowded(t);
    return false;
  }

  /**
   * Ends a spin, putting back the state from before it (`prev`). True if a
   * frame is waiting that no notify will announce (see unpoll).
   */
  spinEnd(prev) {
    if ((prev & POLLING) !== 0 && this.asyncWaits === 0) {
      Atomics.store(this.hdr, STATE, RUNNING);
      return false;
    }
    return this.unpoll(true);
  }

  /** Marks the mailbox closed and wakes every waiter on both slots. */
  close() {
    Atomics.store(this.hdr, CLOSED, 1);
    Atomics.notify(this.hdr, WRITTEN);
    Atomics.notify(this.hdr, READ);
    if (this.queue.length !== 0) {
      this.queue.length = 0;
      this.settleFlush(closedError());
    }
  }
}

