// One side of a channel: request numbering, pending calls, serving requests,
// reference tables, and the transport the bytes travel through.
//
// Transports (one shape, so a service-worker transport can slot in):
//   kind        "atomics" | "async" | "service-worker"
//   blocking    true when this side may block for a reply (worker + atomics)
//   send(bytes, timeoutMs)   write one message (blocking sides may wait for room)
//   recvBlocking(timeoutMs)  -> Uint8Array        (blocking sides only)
//   tryRecv()   -> Uint8Array | null              (null: nothing complete yet)
//   waitAsync() -> Promise | null                 (null: rely on a doorbell / push)
//   close()
// A push transport (postMessage) hands incoming bytes to `endpoint.receive`.

import { encodeMessage, encodeMessageView, decodeMessage, transferRecord, WireError } from "./wire.js";
import { restoreMarks, detach } from "./transfer.js";
import { Mailbox, MailboxError, toMainOffset, toWorkerOffset } from "./mailbox.js";
import { RefTables, PROXY_STATE, proxyName, releasedError } from "./refs.js";
import { makeProxy, STATE } from "./proxy.js";
import { ProbeCache, describeObject, prototypeChain } from "./probe.js";
import { MAX_LEN } from "./protocol.js";
// The main thread's wait-for tracker (./main-core.js), given by main.js: only
// the main side uses it, so a worker's bundle does not carry it.
let waitFor = null;
export function useWaitFor(tracker) {
  waitFor = tracker;
}
import {
  BridgeError, ClosedError, DeadlockError, TimeoutError, InterruptError, reviveError,
  timeoutMessage, deadlockMessage,
} from "./errors.js";

export const TAG = "worker-bridge";
const now = typeof performance === "object" && typeof performance.now === "function"
  ? () => performance.now()
  : () => Date.now();

// Main thread: drain for at most this long, then yield so the page can paint.
const DRAIN_BUDGET_MS = 8;
// After serving a request, poll this long for the next before waiting (ms).
export const DEFAULT_SPIN_MS = 0.05;
// Main: how long a DOM event waits for a worker listener (see awaitListener).
export const DEFAULT_EVENT_WAIT_MS = 50;
// Releases with nothing to ride on go alone after this much quiet.
const RELEASE_IDLE_MS = 25;
// maxMessage when the endpoint is not told (MSG_LEN is an i32: docs/protocol.md §4).
const MAX_MESSAGE_BYTES = MAX_LEN;
// A worker may get a call before its code assigned `sync.name`: wait this long.
const PARK_MS = 10_000;

// "The page's Worker": a BridgeWorker, or the Worker of the coincident compat
// layer (./coincident/main.js), whose options both take `serviceWorker`.
export const ASYNC_WINDOW_MESSAGE =
  "worker-bridge: unable to use `window` or synchronous `sync.*()` calls in this worker without SharedArrayBuffer: " +
  "send the headers `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`, " +
  "or give the page's Worker the `serviceWorker` option. `await sync.name()` works meanwhile.";

// ---------------------------------------------------------------- transports

export class AtomicsTransport {
  // byteOffset: where the channel starts in `sab` (a channel adopted from a
  // worker's wasm memory, see adopt.js; 0 for the buffer BridgeWorker makes).
  constructor(sab, capacity, maxMessage, side, byteOffset = 0) {
    const toMain = new Mailbox(sab, byteOffset + toMainOffset(capacity), capacity, maxMessage);
    const toWorker = new Mailbox(sab, byteOffset + toWorkerOffset(capacity), capacity, maxMessage);
    this.kind = "atomics";
    this.capacity = capacity;
    this.blocking = side === "worker";
    this.in = side === "main" ? toMain : toWorker;
    this.out = side === "main" ? toWorker : toMain;
    // Spins look at whether the other side runs (Mailbox STATE).
    this.in.peer = this.out;
  }
  send(bytes, timeoutMs) {
    if (this.blocking) this.out.sendBlocking(bytes, timeoutMs);
    else this.out.send(bytes);
  }
  recvBlocking(timeoutMs) { return this.in.recvBlocking(timeoutMs); }
  tryRecv() { return this.in.tryRecv(); }
  waitAsync() { return this.in.waitAsync(); }
  close() {
    this.in.close();
    this.out.close();
  }
}

export class PostMessageTransport {
  /** post(message, transfer) posts to the other side. */
  constructor(post) {
    this.kind = "async";
    this.capacity = Infinity;
    this.blocking = false;
    this.post = post;
  }
  send(bytes) {
    // `bytes` is a fresh exact-size copy (see Endpoint.encode), so transfer it.
    this.post({ [TAG]: "m", b: bytes }, [bytes.buffer]);
  }
  recvBlocking() { throw new BridgeError(ASYNC_WINDOW_MESSAGE); }
  tryRecv() { return null; }
  waitAsync() { return null; }
  close() {}
}

// A number the user gives (an option, an argument) must be a number in its
// range, or it throws at once, naming it (`what`): `10n >= 0` and `"10" >= 0`
// hold, but a deadline, now() + ms, is then a TypeError or a string; `"abc" |
// 0` is 0 and `1.5 | 0` 1. The range: ms, >= 0; with `count`, an integer in
// 0..2^32-1 (a u32 of the wait-for tracker).
export function checkNumber(what, v, count) {
  if (typeof v !== "number" || !(count ? v >>> 0 === v : v >= 0)) {
    throw new TypeError(`${what} must be ${count ? "an integer in 0..4294967295" : "a number of ms >= 0"}, got ${String(v)}`);
  }
}

/** A hook the user gives (`what` names it): a function, or null for none. */
export function checkFunction(what, fn) {
  if (fn !== null && typeof fn !== "function") throw new TypeError(`${what} must be a function`);
}

function mapTransportError(e, what, ms) {
  if (e instanceof MailboxError) {
    if (e.code === "timeout") return new TimeoutError(timeoutMessage(what, ms), { cause: e });
    if (e.code === "closed") return new ClosedError(`${what} failed: the channel is closed (the worker was terminated or the page closed the bridge); create a new BridgeWorker to go on`, { cause: e });
    if (e.code === "too-large") return new BridgeError(`${what}: ${e.message}`, { cause: e });
  }
  return e;
}

function isThenable(v) {
  return v !== null && (typeof v === "object" || typeof v === "function") &&
    !PROXY_STATE.has(v) && typeof v.then === "function";
}

// Own keys, symbols included (they cross: docs/protocol.md §2 "Symbols"),
// but not the private state key a proxy's placeholder target carries.
function ownKeysOf(obj) {
  const keys = Reflect.ownKeys(obj);
  const i = keys.indexOf(STATE);
  if (i !== -1) keys.splice(i, 1);
  return keys;
}

// A property descriptor as it crosses by value; an object value is fetched
// by reference with a Get instead (refValue), so it is not copied.
function describe(obj, key) {
  const d = Reflect.getOwnPropertyDescriptor(obj, key);
  if (d === undefined) return undefined;
  const out = { configurable: d.configurable, enumerable: d.enumerable };
  if ("value" in d) {
    out.writable = d.writable;
    const v = d.value;
    if (v !== null && typeof v === "object") out.refValue = true;
    else out.value = v;
  } else {
    out.get = d.get;
    out.set = d.set;
  }
  return out;
}

// A request's name for messages: the sync function, or the object (and key)
// a proxy operation targets (the serving side knows objects only by id).
function opLabel(msg) {
  const op = msg.op;
  if (op.t === "call") return op.name;
  const base = msg.target === 0 ? "window" : `<object #${msg.target}>`;
  if (op.key === undefined) return op.t === "apply" || op.t === "construct" ? base : `${base} (${op.t})`;
  const key = typeof op.key === "symbol" ? `[${op.key.description}]` : `.${op.key}`;
  return op.t === "get" ? `${base}${key}` : `${base}${key} (${op.t})`;
}

// A macrotask soon, without setTimeout's clamping: setImmediate (Node), a
// MessageChannel (browsers), setTimeout as the last resort.
const nextTick = (() => {
  if (typeof setImmediate === "function") return (fn) => { setImmediate(fn); };
  if (typeof MessageChannel === "function") {
    const ch = new MessageChannel();
    let queue = [];
    ch.port1.onmessage = () => {
      const run = queue;
      queue = [];
      for (const fn of run) fn();
    };
    return (fn) => {
      queue.push(fn);
      if (queue.length === 1) ch.port2.postMessage(0);
    };
  }
  return (fn) => { setTimeout(fn, 0); };
})();

const SYNC_ROOT = { id: -1, key: undefined, parent: null, rootName: "sync" };

// ---------------------------------------------------------------- endpoint

export class Endpoint {
  /**
   * @param {object} o
   * @param {"main"|"worker"} o.side
   * @param {object} o.transport
   * @param {number} [o.timeout]   ms, 0 = none
   * @param {boolean} [o.reentrant]
   * @param {object} [o.globalObj]
   * @param {() => void} [o.ringBell]  doorbell to the peer after each send (or null)
   * @param {(e) => void} [o.onError]  errors with nobody to throw to
   */
  constructor({ side, transport, timeout = 0, reentrant = true, globalObj = globalThis, ringBell = null, onError = null, spinMs = DEFAULT_SPIN_MS, replySpinMs = spinMs, parkMs = 0, maxNesting, name, post = null, maxMessage = MAX_MESSAGE_BYTES, eventWaitMs = 0, transform = null, awaitPromises = true }) {
    this.side = side;
    // (Its numbers are BridgeWorker's options, which its constructor checked
    // (main.js); the worker gets them in the start-up message. Each side
    // passes only its own: parkMs the worker, eventWaitMs main.)
    const atomics = transport.kind === "atomics";
    // A native Promise returned by a proxied call (apply) is awaited before
    // the reply (true), or sent by reference for the caller to await (false:
    // coincident's way, which Python interpreters need; docs/pyscript.md).
    this.awaitPromises = awaitPromises;
    // Worker: `then` of a proxy is read from the main thread (see proxy.js).
    this.remoteThen = false;
    // Applied to every argument and result this side sends (the `transform`
    // option; PyScript turns interpreter proxies into JS values with it).
    this.transform = transform;
    this.tx = transport;
    // The largest message: the encoder stops there, before the work when it
    // can tell (a sparse array's length, see wire.js), not only the mailbox.
    this.maxMessage = maxMessage;
    this.timeout = timeout;
    this.reentrant = reentrant;
    // A per-call time-out set by withTimeout() while its callback runs (-1: none).
    this.timeoutOverride = -1;
    // Main: this worker's id in the page-wide wait-for tracker (main-core.js); 0 when untracked.
    this.wid = side === "main" && transport.kind !== "async" ? waitFor.addWorker({ reentrant, maxNesting, name }) : 0;
    this.globalObj = globalObj;
    // Properties the peer reads on this side's global object (id 0) that are
    // served from here instead, ahead of the global's own (null: none). The
    // coincident compat entry puts coincident's `window.import` here.
    this.globalExtras = null;
    this.ringBell = ringBell;
    this.onError = onError;
    this.exposed = new Map();
    // Worker: the snapshot of the last Describe (probe.js); dropped whenever
    // this side sends or serves a request.
    this.probe = new ProbeCache();
    this.served = 0; // requests served so far (stats())
    this.refs = new RefTables({
      globalObj,
      makeProxy: (kind, st) => makeProxy(kind, st, this.tx.blocking),
      onPending: () => this.scheduleReleaseFlush(),
      rootProxy: () => this.windowProxy(),
    });
    this.refs.ep = this;
    this.seq = 0;
    this.closed = null;
    // Views into the reused encoder buffer are fine when the transport copies
    // at once (mailbox); postMessage transfers, so it gets a fresh copy.
    this.encodeFn = atomics ? encodeMessageView : encodeMessage;
    // transfer(): `post(msg, transferList)` reaches the peer's message
    // handler (atomics transport); `_xo` is the codec's transfer record.
    this.post = post;
    this._xo = transferRecord(false);
    this._encoding = false;
    // Main: the worker said (in its ready message) that it takes moved
    // buffers by postMessage; a Rust embedding's bootstrap does not.
    this.peerTakesMoves = side === "worker";
    this._req = { t: "request", seq: 0, nestedIn: 0, target: 0, op: null, described: false, releases: null };
    this._rep = { t: "reply", seq: 0, ok: true, value: undefined, byRef: false, releases: null };
    this._callOp = { t: "call", name: "", args: null };

    // Async calls (main->worker, or worker->main without blocking).
    this.pending = new Map();
    // Worker: the stack of blocked calls (parallel arrays: no allocation).
    this.frameSeq = [];
    this.frameWhat = [];
    this.frameAbort = [];
    this.stash = new Map(); // replies for outer frames that came early
    this.queue = []; // requests deferred until the worker is back in its event loop
    this.parked = new Map(); // name -> [{ msg, timer }]
    // Main: requests of the (blocked) worker being served, innermost last.
    this.serving = [];
    // Requests answered when their promise settles; a Cancel drops the reply.
    this.inFlight = new Set();
    this.cancelled = new Set();

    this.waiting = false;
    // Main: the worker rings for frames other than replies (main.js, `bells`).
    this.bells = false;
    this.pumpScheduled = false;
    // Doorbell mode: multi-frame messages announced and not yet complete.
    this.pollFor = 0;
    // How long the event-loop side polls for the next request after serving one.
    this.spinMs = atomics ? spinMs : 0;
    // Worker: how long its event-loop side parks (Atomics.wait) for the next request after serving one.
    this.parkMs = atomics ? parkMs : 0;
    // When the last request was read (now() time), and whether it came
    // within parkMs of the one before: only calls in a burst park the
    // thread, so a page calling now and then never holds up this event loop.
    this.requestAt = -Infinity;
    this.burst = false;
    // How long an async call (callAsync) polls for its reply.
    this.replySpinMs = atomics ? replySpinMs : 0;
    // Atomics: the incoming mailbox, whose wait state (STATE) this side
    // publishes so the peer notifies it only when parked and spins only
    // while it runs (mailbox.js).
    this.box = atomics ? transport.in : null;
    // Main, atomics: a worker listener gets the event synchronously for up to this long.
    this.eventWaitMs = atomics ? eventWaitMs : 0;
    this.listenerUntil = 0;
    this.releaseTimer = null;
    this._onWake = () => {
      this.waiting = false;
      this.pump();
    };
    this._pumpTick = () => {
      this.pumpScheduled = false;
      this.pump();
    };
    this.rootState = null;
    this.spinSeq = 0;
    this.replySpinQueued = false;
    this._replySpin = () => this.replySpin();
  }

  nextSeq() {
    const s = (this.seq + 1) >>> 0;
    this.seq = s === 0 ? 1 : s;
    return this.seq;
  }

  /** The proxy of the peer's global object (worker: `window`). */
  windowProxy() {
    if (this.rootState === null) {
      const st = {
        id: 0, kind: 1, tables: this.refs, released: false, parent: null, key: undefined, dispose: null,
        rootName: this.side === "worker" ? "window" : "<worker globalThis>",
      };
      this.rootState = st;
      this.rootProxy = makeProxy(1, st, this.tx.blocking || this.side === "worker");
      PROXY_STATE.set(this.rootProxy, st);
    }
    return this.rootProxy;
  }

  proxyLabel(st) {
    return proxyName(st);
  }

  // ------------------------------------------------------------ sending

  // A message that cannot be encoded or sent takes back the export counts
  // its encoding added (the peer never saw those Remotes) and queues again
  // the releases it took to carry (a request's, a reply's, a release's).
  encode(msg) {
    const refs = this.refs;
    // Inside another message's encode (a getter it ran made a sync call): a
    // transfer record of its own, so that the outer message keeps its buffers.
    const outer = this._encoding;
    const xo = outer ? (this._xo = transferRecord()) : this._xo;
    // (Emptied only when needed: `length = 0` costs ~0.1 us on the hot path.)
    if (xo.buffers.length !== 0) xo.buffers.length = 0;
    if (xo.marked.length !== 0) xo.marked.length = 0;
    xo.move = this.canMove(msg);
    const start = refs.beginEncode(outer);
    if (msg.releases !== undefined) msg.releases = refs.takeReleases();
    this._encoding = true;
    try {
      return this.encodeFn(msg, refs, xo, this.maxMessage);
    } catch (e) {
      refs.rollbackEncode(start);
      // Over maxMessage: the same error class as the mailbox's refusal.
      if (e instanceof WireError && e.tooLarge === true) throw new BridgeError(e.message, { cause: e });
      throw e;
    } finally {
      refs.msgStart = start; // what sendBytes settles (a nested encode moved it)
      this._encoding = outer;
      this._xo = xo; // what the send takes (a nested encode replaced it)
    }
  }

  // Encodes a request (with the pending releases riding on it: encode).
  encodeRequest(seq, nestedIn, target, op, described = false) {
    if (this.transform !== null) transformOp(this.transform, op);
    const req = this._req;
    req.seq = seq;
    req.nestedIn = nestedIn;
    req.target = target;
    req.op = op;
    req.described = described;
    try {
      return this.encode(req);
    } finally {
      req.op = null;
      req.described = false;
      req.releases = null;
    }
  }

  // `label`/`what` describe the message for an error (see describeWhat);
  // they are turned into text only when something fails.
  sendBytes(bytes, timeoutMs, label, what = null) {
    if (this._xo.buffers.length !== 0) {
      this.sendTransfer(bytes, timeoutMs, label, what);
      return;
    }
    const bell = this.ringBell;
    // Doorbell mode: a message of several frames needs the peer reading while
    // it is written, so the bell goes first and asks the peer to poll.
    const big = bell !== null && bytes.length > this.tx.capacity;
    if (big) bell(true);
    try {
      this.tx.send(bytes, timeoutMs);
    } catch (e) {
      this.refs.rollbackEncode(); // `bytes` is always the latest encode
      throw mapTransportError(e, describeWhat(label, what), timeoutMs);
    }
    this.refs.sent();
    if (bell !== null && !big) bell(false, label === REPLY);
  }

  // transfer(): may the buffers of `msg` move beside its bytes (postMessage
  // with a transfer list)? Only when the peer reads them in its event loop
  // without blocking: always over the async transport; with atomics, for
  // everything the worker sends (main never blocks) and for main's requests
  // that are not nested into a blocked worker call (a blocked worker cannot
  // receive a postMessage) while nothing waits in main's outgoing mailbox
  // (the message would overtake it). Otherwise they are copied through the
  // channel and detached on this side (docs/api.md "Moving buffers").
  canMove(msg) {
    const kind = this.tx.kind;
    if (kind === "async") return true;
    if (kind !== "atomics" || this.post === null || !this.peerTakesMoves) return false;
    if (this.side === "worker") return true;
    return msg.t === "request" && msg.nestedIn === 0 && this.tx.out.queue.length === 0;
  }

  // Sends a message whose encoding took transferred buffers (this._xo).
  sendTransfer(bytes, timeoutMs, label, what) {
    const xo = this._xo;
    const buffers = xo.buffers.slice();
    const marked = xo.marked.slice();
    xo.buffers.length = 0;
    xo.marked.length = 0;
    const unmark = () => {
      for (let i = 0; i < marked.length; i += 2) restoreMarks(marked[i], marked[i + 1]);
    };
    if (!xo.move) {
      // Copied into the message: detach the originals once it is sent, so
      // the sender sees the same as after a real move.
      try {
        this.sendBytes(bytes, timeoutMs, label, what);
      } catch (e) {
        unmark();
        throw e;
      }
      for (let i = 0; i < buffers.length; i++) detach(buffers[i]);
      return;
    }
    // Moved: the bytes and the buffers go in one postMessage, so the peer
    // never sees the message without its buffers. The atomics encoder gave a
    // view of its reused buffer: copy it out first.
    const b = this.tx.kind === "atomics" ? bytes.slice() : bytes;
    const post = this.tx.kind === "async" ? this.tx.post : this.post;
    try {
      if (this.closed) throw this.closed;
      post({ [TAG]: "m", b, x: buffers }, [b.buffer, ...buffers]);
    } catch (e) {
      this.refs.rollbackEncode();
      unmark();
      if (e instanceof ClosedError) throw e;
      throw new BridgeError(`${describeWhat(label, what)}: the transferred buffers could not be sent: ${e && e.message}`, { cause: e });
    }
    this.refs.sent();
  }

  sendCancel(seq) {
    try {
      this.sendBytes(this.encode({ t: "cancel", seq }), this.timeout || Infinity, "cancel");
    } catch {
      // The channel is gone; nothing to cancel.
    }
  }

  reply(seq, ok, value, byRef, req) {
    if (this.closed) return;
    if (ok && this.transform !== null) {
      try {
        value = transformValue(this.transform, value);
      } catch (e) {
        ok = false;
        value = e;
      }
    }
    if (ok && req !== undefined && req.op != null && req.op.described === true) {
      // The asker wants the result's snapshot in this reply (docs/protocol.md
      // §3 "Describe"): taken now, at the same instant as the value.
      value = req.op.t === "apply"
        ? [value, describedSnapshot(value), chainOf(req.op.this)]
        : [value, describedSnapshot(value)];
      byRef = "described"; // wire.js describedReply
    }
    const rep = this._rep;
    rep.seq = seq;
    rep.ok = ok;
    rep.value = value;
    rep.byRef = ok && byRef;
    let bytes;
    try {
      bytes = this.encode(rep);
    } catch (e) {
      // The result cannot cross: the caller gets an error that says why.
      // (`seq` again: a getter the value ran may have made a call that
      // served a nested request, whose reply reused `rep`.)
      rep.seq = seq;
      rep.ok = false;
      rep.byRef = false;
      rep.value = new BridgeError(`the ${ok ? "result" : "error thrown"} of ${describeOp(req)} cannot be sent to the other side: ${e.message}`);
      bytes = this.encode(rep); // (with the releases the failed encode queued again)
    } finally {
      rep.value = undefined;
      rep.releases = null;
    }
    try {
      this.sendBytes(bytes, Infinity, REPLY, req);
    } catch (e) {
      if (e instanceof BridgeError && !(e instanceof ClosedError) && ok) {
        // Too large: tell the caller instead of leaving it waiting.
        this.reply(seq, false, e, false, req);
      } else if (!(e instanceof ClosedError)) {
        // (Closed: the caller is gone with the channel; nobody to tell.)
        this.report(e);
      }
    }
  }

  report(e) {
    if (this.onError !== null) this.onError(e);
    else if (typeof console === "object") console.error(e);
  }

  // ------------------------------------------------------------ releases

  scheduleReleaseFlush() {
    if (this.releaseTimer !== null || this.closed) return;
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = null;
      if (!this.refs.hasPending() || this.closed) return;
      try {
        this.sendBytes(this.encode({ t: "release", releases: null }), Infinity, "release");
      } catch (e) {
        if (!(e instanceof ClosedError)) this.report(e);
      }
    }, RELEASE_IDLE_MS);
    if (typeof this.releaseTimer === "object" && typeof this.releaseTimer.unref === "function") {
      this.releaseTimer.unref();
    }
  }

  // ------------------------------------------------------------ blocking calls (worker)

  /** A reflective op on a main-thread object, from a SYNC proxy trap. */
  reflect(st, op, hintKey, what) {
    if (this.closed) throw this.closed;
    if (st.released) throw releasedError(st);
    if (!this.tx.blocking) {
      throw new BridgeError(ASYNC_WINDOW_MESSAGE);
    }
    // A result the worker's runtime is probing objects of (probe.js,
    // "folding") comes with its Describe snapshot: no Describe round trip.
    if (this.probe.foldOn && (op.t === "get" || op.t === "apply" || op.t === "construct")) {
      const r = this.callBlocking(st.id, op, st, hintKey, st, what, true);
      const v = r[0];
      if (r[1] !== null && v !== null && (typeof v === "object" || typeof v === "function")) {
        const vs = PROXY_STATE.get(v);
        if (vs !== undefined) this.probe.fill(vs, r[1], true);
      }
      if (r.length > 2 && r[2] !== null) {
        const ts = PROXY_STATE.get(op.this);
        if (ts !== undefined) this.probe.addChain(ts, r[2]);
      }
      return v;
    }
    return this.callBlocking(st.id, op, st, hintKey, st, what);
  }

  /** `sync.name(...args)` from the worker. */
  callSync(name, args) {
    // (A fresh op while the shared one is in use: a transform or a getter
    // run for an outer call's arguments made this call.)
    const op = this._callOp.args === null ? this._callOp : { t: "call" };
    op.name = name;
    op.args = args;
    try {
      return this.callBlocking(0, op, SYNC_ROOT, name, name, SYNC_CALL);
    } finally {
      op.args = null;
    }
  }

  // `label` is the call's name or the proxy state; `what` the key, "()" or
  // "new" for a proxy, SYNC_CALL for `sync.name()` (see describeWhat).
  callBlocking(target, op, hintParent, hintKey, label, what, described = false) {
    if (this.closed) throw this.closed;
    if (this.probe.live) this.probe.drop();
    const seq = this.nextSeq();
    const bytes = this.encodeRequest(seq, 0, target, op, described);
    const timeout = this.timeoutOverride >= 0 ? this.timeoutOverride : this.timeout;
    const deadline = timeout > 0 ? now() + timeout : 0;
    this.sendBytes(bytes, timeout > 0 ? timeout : Infinity, label, what);
    const frames = this.frameSeq;
    frames.push(seq);
    this.frameWhat.push(label);
    this.frameAbort.push(null);
    const depth = frames.length;
    const mark = this.refs.cut();
    try {
      return this.waitReply(seq, depth, deadline, hintParent, hintKey, label, what, timeout);
    } finally {
      this.refs.cut(mark); // (inside a decode: see RefTables.beginDecode)
      frames.pop();
      this.frameWhat.pop();
      this.frameAbort.pop();
    }
  }

  waitReply(seq, depth, deadline, hintParent, hintKey, label, what, ms = this.timeout) {
    const tx = this.tx;
    const refs = this.refs;
    for (;;) {
      if (this.stash.size !== 0) {
        const early = this.stash.get(seq);
        if (early !== undefined) {
          this.stash.delete(seq);
          refs.unholdImports(early, true); // delivered now: its proxies are usable
          return settle(early);
        }
      }
      const abort = this.frameAbort[depth - 1];
      if (abort !== null) {
        this.sendCancel(seq);
        throw abort;
      }
      let wait = Infinity;
      if (deadline !== 0) {
        wait = deadline - now();
        if (wait <= 0) return this.timedOut(seq, label, what, ms);
      }
      let bytes;
      try {
        bytes = tx.recvBlocking(wait);
      } catch (e) {
        if (e instanceof MailboxError && e.code === "timeout") return this.timedOut(seq, label, what, ms);
        throw mapTransportError(e, describeWhat(label, what), ms);
      }
      // (Saved and restored: this wait may run inside a decode.)
      const hp = refs.hintParent;
      const hk = refs.hintKey;
      refs.hintParent = hintParent;
      refs.hintKey = hintKey;
      const start = refs.beginDecode();
      let msg;
      Mailbox.decoding++;
      try {
        msg = decodeMessage(bytes, refs);
      } finally {
        Mailbox.decoding--;
        refs.hintParent = hp;
        refs.hintKey = hk;
        refs.endDecode();
      }
      const rel = msg.releases;
      if (rel !== undefined && rel.length !== 0) refs.applyReleases(rel);
      switch (msg.t) {
        case "reply":
          if (msg.seq === seq) return settle(msg);
          // An outer blocked call's reply came first: keep it for that frame,
          // holding the proxies it delivers as a queued request does (a
          // release meanwhile cannot make them unusable before delivery).
          // Anything else is a late reply after a time-out: dropped.
          if (this.frameSeq.includes(msg.seq)) {
            refs.hold(msg, start, false);
            this.stash.set(msg.seq, msg);
          }
          break;
        case "request":
          if (msg.nestedIn !== 0 && this.frameSeq.includes(msg.nestedIn)) {
            this.serve(msg, true);
          } else {
            // Run-to-completion: served once the worker is back in its event loop.
            // Until then it keeps its target and the proxies it carries alive.
            refs.hold(msg, start);
            this.queue.push(msg);
            this.schedulePump();
          }
          break;
        case "cancel":
          this.onCancel(msg.seq);
          break;
        default:
          break; // release: applied above
      }
    }
  }

  timedOut(seq, label, what, ms = this.timeout) {
    this.sendCancel(seq);
    throw new TimeoutError(timeoutMessage(describeWhat(label, what), ms));
  }

  // ------------------------------------------------------------ async calls

  reflectAsync(st, op) {
    if (this.closed) return Promise.reject(this.closed);
    if (st.released) return Promise.reject(releasedError(st));
    return this.callAsync(st.id, op, st);
  }

  // `what`: the sync function's name, or the proxy state (named lazily).
  callAsync(target, op, what) {
    if (this.closed) return Promise.reject(this.closed);
    let nestedIn = 0;
    const seq = this.nextSeq();
    const wid = this.wid;
    if (wid !== 0) {
      // The page-wide wait-for tracker decides: nested into the worker's
      // innermost blocked call, direct, or refused (main-core.js).
      try {
        nestedIn = waitFor.callWorker(wid, seq, typeof what === "string" ? `proxy.${what}()` : () => `${frameName(what)}()`);
      } catch (e) {
        return Promise.reject(e);
      }
    } else if (this.serving.length !== 0) {
      nestedIn = this.serving[this.serving.length - 1].seq;
    }
    let bytes;
    try {
      bytes = this.encodeRequest(seq, nestedIn, target, op);
    } catch (e) {
      if (wid !== 0) waitFor.callFinished(wid, seq);
      return Promise.reject(e);
    }
    const ms = this.timeoutOverride >= 0 ? this.timeoutOverride : this.timeout;
    return new Promise((resolve, reject) => {
      const p = { resolve, reject, timer: null, check: null };
      this.pending.set(seq, p);
      if (ms > 0) {
        p.timer = setTimeout(() => {
          if (this.pending.get(seq) !== p) return;
          this.pending.delete(seq);
          if (wid !== 0) waitFor.callFinished(wid, seq);
          this.sendCancel(seq);
          reject(new TimeoutError(timeoutMessage(`${frameName(what)}()`, ms)));
        }, ms);
      }
      // Parked in waitAsync: say we poll until the look in replySpin, so a
      // reply written meanwhile comes without the peer's notify and its
      // wake-up task (docs/benchmarks.md, "Main->worker calls (stop 16)").
      if (this.waiting || (this.bells && this.replySpinMs === 0)) this.box?.running();
      try {
        this.sendBytes(bytes, Infinity, what, typeof what === "string" ? SYNC_CALL : "()");
      } catch (e) {
        this.pending.delete(seq);
        if (wid !== 0) waitFor.callFinished(wid, seq);
        if (p.timer !== null) clearTimeout(p.timer);
        reject(e);
        return;
      }
      if (wid !== 0 && nestedIn === 0) this.armCycleCheck(seq, p);
      if (this.box !== null) {
        this.spinSeq = seq;
        if (!this.replySpinQueued) {
          this.replySpinQueued = true;
          queueMicrotask(this._replySpin);
        }
      }
    });
  }

  // A call queued behind a blocked strict worker's call may close a wait
  // cycle that main cannot see at once (calls made after a handler awaited
  // a timer have no known context): look again a while later, and refuse it
  // if the cycle still stands (main-core.js, docs/deadlocks.md).
  armCycleCheck(seq, p) {
    if (!waitFor.mayCycle(this.wid)) return;
    p.check = setTimeout(() => {
      p.check = null;
      if (this.pending.get(seq) !== p) return;
      const e = waitFor.suspectedCycle(this.wid, seq);
      if (e === null) {
        this.armCycleCheck(seq, p);
        return;
      }
      this.pending.delete(seq);
      waitFor.callFinished(this.wid, seq);
      if (p.timer !== null) clearTimeout(p.timer);
      this.sendCancel(seq);
      p.reject(e);
    }, waitFor.SUSPECT_CHECK_MS);
  }

  // Once the caller's synchronous code is done, poll briefly for the reply:
  // a worker that is not busy answers within microseconds, much sooner than
  // a waitAsync wake-up would tell us.
  // Without callSpin: one look (see callAsync).
  replySpin() {
    this.replySpinQueued = false;
    if (this.replySpinMs > 0) this.spinForReply(this.spinSeq, now() + this.replySpinMs, true);
    else if ((this.waiting || this.bells) && this.box.unpoll()) {
      this.pump();
      return;
    }
    // A worker that says `bells` rings for no reply: with a call pending,
    // the page waits for its notify in waitAsync (armWait).
    if (this.bells && !this.waiting) this.armWait();
  }

  /**
   * Main called a worker function with an Event that is being dispatched (a
   * worker event listener; proxy.js): wait for its reply here, serving the
   * worker's calls meanwhile (`event.preventDefault()` is one), so that what
   * the listener does to the event takes effect. At most `eventWaitMs`, then
   * the event goes on and the listener finishes on its own. A listener that
   * dispatches another event to a worker listener shares the same deadline.
   */
  awaitListener() {
    if (this.eventWaitMs === 0) return;
    const outer = this.listenerUntil;
    const until = now() + this.eventWaitMs;
    this.listenerUntil = outer !== 0 && outer < until ? outer : until;
    try {
      this.spinForReply(this.seq, this.listenerUntil);
    } finally {
      this.listenerUntil = outer;
    }
  }

  // Polls for the reply to `seq` until `until` (now() time), dispatching
  // what comes; `peerRuns`: also stop once the worker no longer runs.
  spinForReply(seq, until, peerRuns = false) {
    const box = this.box;
    if (box === null) return;
    const prev = box.state;
    box.spinBegin(now());
    try {
      this.spinLoop(seq, until, peerRuns);
    } finally {
      // A frame the worker wrote while this spun came without a notify.
      if (box.spinEnd(prev)) this.schedulePump();
    }
  }

  spinLoop(seq, until, peerRuns) {
    const tx = this.tx;
    const box = this.box;
    while (!this.closed && this.pending.has(seq)) {
      let bytes;
      try {
        bytes = tx.tryRecv();
      } catch {
        return; // the event-loop pump reports it
      }
      if (bytes === null) {
        const t = now();
        const peerOn = box.spinOn(t); // beats this side's heartbeat too
        if (t >= until || (peerRuns && !peerOn)) return;
        // A send that found the slot full waits in the mailbox's queue for
        // main's event loop, which does not run while this spins: write it.
        const out = tx.out;
        if (out !== undefined && out.queue.length !== 0 && out.slotFree()) out.pump();
        continue;
      }
      let msg;
      try {
        msg = this.decodeIncoming(bytes);
      } catch (e) {
        this.report(e);
        continue;
      }
      box.running(); // not spinning while it serves: its heartbeat stops
      this.dispatch(msg);
      box.spinBegin(now());
    }
  }

  resolvePending(msg) {
    const p = this.pending.get(msg.seq);
    if (p === undefined) return; // late reply after a time-out: dropped
    this.pending.delete(msg.seq);
    if (p.timer !== null) clearTimeout(p.timer);
    if (p.check !== null) clearTimeout(p.check);
    const ctx = this.wid !== 0 ? waitFor.callFinished(this.wid, msg.seq) : null;
    if (ctx !== null) {
      // Carry the caller's context across its `await` of this call: the
      // continuation runs in the microtask queued by resolve(), between these two.
      queueMicrotask(() => waitFor.setCurrent(ctx));
      if (msg.ok) p.resolve(msg.value);
      else p.reject(reviveError(msg.value));
      queueMicrotask(() => waitFor.setCurrent(null));
      return;
    }
    if (msg.ok) p.resolve(msg.value);
    else p.reject(reviveError(msg.value));
  }

  // ------------------------------------------------------------ serving

  /**
   * Serves one request: runs it, replies now or when its promise settles.
   * `nested`: the worker is blocked in a call and serves this inside it, so
   * it cannot wait for a promise (that is the deadlock case).
   */
  serve(msg, nested) {
    this.served++;
    if (this.probe.live) this.probe.drop();
    const op = msg.op;
    let value;
    let ok = true;
    let byRef = false;
    let awaitable = 0; // 1: any thenable (sync functions), 2: native Promise (apply)
    const track = this.side === "main" && this.peerBlocks();
    let prevCtx = null;
    if (track) {
      this.serving.push(msg);
      if (this.wid !== 0) {
        // The worker is blocked in this call; calls main makes while the
        // handler runs are made in its context (main-core.js).
        waitFor.beginServing(this.wid, msg.seq, callLabel(msg));
        prevCtx = waitFor.setCurrent({ worker: this.wid, seq: msg.seq });
      }
    }
    let async = false;
    try {
      const refs = this.refs;
      switch (op.t) {
        case "call": {
          const fn = this.exposed.get(op.name);
          if (fn === undefined) {
            if (this.side === "worker" && !nested && this.park(msg)) return;
            throw new Error(this.side === "main"
              ? `worker-bridge: the main thread exposes no sync function "${op.name}"; assign it first: w.sync.${op.name} = (...args) => ...`
              : `worker-bridge: the worker exposes no sync function "${op.name}"; assign it in the worker: sync.${op.name} = (...args) => ...`);
          }
          value = fn(...op.args);
          awaitable = 1;
          break;
        }
        case "get":
          value = msg.target === 0 && this.globalExtras !== null && Object.hasOwn(this.globalExtras, op.key)
            ? this.globalExtras[op.key]
            : Reflect.get(refs.target(msg.target), op.key);
          byRef = true;
          break;
        case "set":
          value = Reflect.set(refs.target(msg.target), op.key, op.value);
          break;
        case "has":
          value = Reflect.has(refs.target(msg.target), op.key);
          break;
        case "delete":
          value = Reflect.deleteProperty(refs.target(msg.target), op.key);
          break;
        case "own_keys":
          value = ownKeysOf(refs.target(msg.target));
          break;
        case "get_own_property_descriptor":
          value = describe(refs.target(msg.target), op.key);
          break;
        case "define_property":
          value = Reflect.defineProperty(refs.target(msg.target), op.key, op.descriptor);
          break;
        case "get_prototype_of":
          value = Reflect.getPrototypeOf(refs.target(msg.target));
          byRef = true;
          break;
        case "describe":
          value = describeObject(refs.target(msg.target));
          byRef = "describe"; // wire.js describeReply
          break;
        case "set_prototype_of":
          value = Reflect.setPrototypeOf(refs.target(msg.target), op.proto);
          break;
        case "apply":
          value = Reflect.apply(refs.target(msg.target), op.this, op.args);
          byRef = true;
          awaitable = 2;
          break;
        case "construct":
          value = Reflect.construct(refs.target(msg.target), op.args);
          byRef = true;
          break;
        default:
          throw new BridgeError(`unknown request op ${op.t}`);
      }
      if (awaitable !== 0 && (awaitable === 1 ? isThenable(value) : this.awaitPromises && value instanceof Promise)) {
        if (nested && awaitable === 1) {
          // The worker is blocked: it cannot run the promise's continuation,
          // and main is awaiting this sync function inside the call the
          // worker waits for, so both would hang. Fail the nested call and
          // the blocked call with the same error. (A callback called through
          // a proxy, e.g. an async event listener, is answered when its
          // promise settles instead: main rarely awaits those.)
          Promise.resolve(value).then(undefined, () => {});
          const depth = this.frameSeq.lastIndexOf(msg.nestedIn);
          const blocked = frameName(this.frameWhat[depth]);
          const err = new DeadlockError(deadlockMessage(opLabel(msg), blocked) +
            `: proxy.${opLabel(msg)}() returned a Promise, which the blocked worker cannot await. ` +
            "Make that worker function synchronous, or call it from the main thread only when the worker is not blocked.");
          this.frameAbort[depth] = err;
          ok = false;
          value = err;
        } else {
          async = true;
          this.inFlight.add(msg.seq);
          Promise.resolve(value).then(
            (v) => this.finishServe(msg, track, true, v, byRef),
            (e) => this.finishServe(msg, track, false, e, false),
          );
          return;
        }
      } else if (awaitable === 2 && value instanceof Promise) {
        // Sent by reference (awaitPromises: false): the worker attaches its
        // handlers a round trip later; a rejection before that is not an
        // unhandled one on this page.
        value.then(undefined, () => {});
      }
    } catch (e) {
      ok = false;
      value = e;
    } finally {
      if (track) {
        if (this.wid !== 0) waitFor.setCurrent(prevCtx);
        if (!async) this.untrack(msg);
      }
    }
    this.reply(msg.seq, ok, value, byRef, msg);
  }

  finishServe(msg, track, ok, value, byRef) {
    if (track) this.untrack(msg);
    this.inFlight.delete(msg.seq);
    if (this.cancelled.size !== 0 && this.cancelled.delete(msg.seq)) return;
    this.reply(msg.seq, ok, value, byRef, msg);
  }

  untrack(msg) {
    const i = this.serving.lastIndexOf(msg);
    if (i !== -1) this.serving.splice(i, 1);
    if (this.wid !== 0) waitFor.finishServing(this.wid, msg.seq);
  }

  peerBlocks() {
    return this.tx.kind !== "async";
  }

  onCancel(seq) {
    // Main: the worker gave up on a call being served; it is no longer blocked
    // in it, so later calls must not be nested into it, and its reply is dropped.
    for (let i = this.serving.length - 1; i >= 0; i--) {
      if (this.serving[i].seq === seq) {
        this.serving.splice(i, 1);
        if (this.wid !== 0) waitFor.finishServing(this.wid, seq);
        break;
      }
    }
    if (this.inFlight.has(seq)) {
      this.cancelled.add(seq);
      return;
    }
    // Worker: a queued or parked request that was given up.
    const qi = this.queue.findIndex((m) => m.seq === seq);
    if (qi !== -1) {
      const [m] = this.queue.splice(qi, 1);
      this.refs.unholdImports(m, false);
      this.refs.unholdTarget(m);
      return;
    }
    for (const [name, list] of this.parked) {
      const i = list.findIndex((p) => p.msg.seq === seq);
      if (i !== -1) {
        clearTimeout(list[i].timer);
        list.splice(i, 1);
        if (list.length === 0) this.parked.delete(name);
        return;
      }
    }
  }

  // Worker: a call for a name not exposed yet waits a little for `sync.name = fn`.
  park(msg) {
    const name = msg.op.name;
    let list = this.parked.get(name);
    if (list === undefined) this.parked.set(name, (list = []));
    const entry = { msg, timer: null };
    entry.timer = setTimeout(() => {
      const l = this.parked.get(name);
      const i = l === undefined ? -1 : l.indexOf(entry);
      if (i === -1) return;
      l.splice(i, 1);
      if (l.length === 0) this.parked.delete(name);
      this.reply(msg.seq, false, new Error(`worker-bridge: the worker exposes no sync function "${name}" ` +
        `(waited ${PARK_MS} ms for it); assign it in the worker: sync.${name} = (...args) => ...`), false, msg);
    }, PARK_MS);
    list.push(entry);
    return true;
  }

  expose(name, fn) {
    if (typeof fn !== "function") {
      throw new TypeError(`sync.${String(name)} must be a function, got ${fn === null ? "null" : typeof fn}`);
    }
    this.exposed.set(name, fn);
    const list = this.parked.get(name);
    if (list !== undefined) {
      this.parked.delete(name);
      for (const p of list) {
        clearTimeout(p.timer);
        this.queue.push(p.msg);
      }
      this.schedulePump();
    }
  }

  // ------------------------------------------------------------ event loop

  dispatch(msg) {
    const rel = msg.releases;
    if (rel !== undefined && rel.length !== 0) this.refs.applyReleases(rel);
    switch (msg.t) {
      case "request":
        this.serve(msg, false);
        break;
      case "reply":
        this.resolvePending(msg);
        break;
      case "cancel":
        this.onCancel(msg.seq);
        break;
      default:
        break;
    }
  }

  // Event-loop side decode (the blocking loop decodes with naming hints).
  // `buffers`: the transferred ArrayBuffers that came with the bytes.
  decodeIncoming(bytes, buffers = null) {
    Mailbox.decoding++;
    try {
      return decodeMessage(bytes, this.refs, buffers);
    } finally {
      Mailbox.decoding--;
    }
  }

  /**
   * Push transports hand incoming message bytes here, and so does a message
   * that moved buffers (`buffers`, see sendTransfer).
   */
  receive(bytes, buffers = null) {
    if (this.closed) return;
    // A message with buffers came by postMessage beside the mailbox: what
    // the peer wrote into the mailbox before it comes first.
    if (buffers !== null && this.tx.kind === "atomics") this.pump();
    if (this.closed) return;
    let msg;
    try {
      msg = this.decodeIncoming(bytes, buffers);
    } catch (e) {
      this.report(e);
      return;
    }
    this.dispatch(msg);
  }

  schedulePump() {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    nextTick(this._pumpTick);
  }

  /** Drains every complete message (within a time budget), then waits again. */
  pump() {
    if (this.closed) return;
    const start = now();
    const tx = this.tx;
    const box = this.box;
    if (box !== null) box.running();
    let spinUntil = 0;
    let served = false;
    for (;;) {
      let msg;
      if (this.queue.length !== 0) {
        msg = this.queue.shift();
        // Releases of a queued request were applied when it was read.
        msg.releases = undefined;
        this.refs.unholdImports(msg, true);
      } else {
        let bytes;
        try {
          bytes = tx.tryRecv();
        } catch (e) {
          if (e instanceof MailboxError && e.code === "closed") {
            this.closedByPeer();
            return;
          }
          this.report(mapTransportError(e, "receiving", 0));
          continue;
        }
        if (bytes === null) {
          // Having just answered a request, poll a little before parking:
          // a caller in a loop sends the next one within microseconds, and
          // a waitAsync wake-up costs tens of them.
          if (!served) break;
          if (this.parkMs !== 0) {
            // ... or (worker) park the thread briefly in Atomics.wait: it
            // takes no core, and main's notify wakes it without the
            // event-loop task that makes a waitAsync wake-up slow. Not
            // while a reply waits for a promise or an async call of ours
            // for its answer: those need the event loop. Nor after a lone
            // call (see requestAt).
            if (!this.burst || this.inFlight.size !== 0 || this.pending.size !== 0) break;
            const came = box.parkFor(this.parkMs);
            box.running();
            if (came && !box.closed) continue;
            break;
          }
          const t = now();
          if (spinUntil === 0) {
            spinUntil = t + this.spinMs;
            if (box !== null) box.spinBegin(t);
          } else if (t >= spinUntil || (box !== null && !box.spinOn(t))) break;
          if (t - start > DRAIN_BUDGET_MS) {
            if (box !== null) box.running(); // its heartbeat stops while the page runs
            this.schedulePump();
            return;
          }
          continue;
        }
        if (spinUntil !== 0) {
          spinUntil = 0;
          if (box !== null) box.running();
        }
        if (this.pollFor !== 0 && bytes.length > tx.capacity) this.pollFor--;
        try {
          msg = this.decodeIncoming(bytes);
        } catch (e) {
          this.report(e);
          continue;
        }
      }
      if (msg.t === "request") {
        served = true;
        if (this.parkMs !== 0) {
          const t = now();
          this.burst = t - this.requestAt <= this.parkMs;
          this.requestAt = t;
        }
      }
      this.dispatch(msg);
      if (msg.held !== undefined) {
        this.refs.unholdTarget(msg);
        msg.held = undefined;
      }
      if (this.closed) return;
      if (now() - start > DRAIN_BUDGET_MS) {
        // Let the page breathe; continue right after.
        this.schedulePump();
        return;
      }
    }
    if (this.pollFor !== 0) {
      // No Atomics.waitAsync and a big message in flight: poll until it is in.
      this.schedulePump();
      return;
    }
    // Drained and the peer closed the channel: waitAsync would resolve at
    // once forever (a microtask loop that freezes the page), so stop here.
    if (this.tx.in !== undefined && this.tx.in.closed) {
      this.closedByPeer();
      return;
    }
    this.armWait();
  }

  closedByPeer() {
    this.close(new ClosedError(this.side === "main"
      ? "the worker closed the channel (it called self.close(), or its bridge shut down); every pending call was rejected. Create a new BridgeWorker to go on"
      : "the channel was closed by the other side"));
  }

  /** A doorbell from the peer: `poll` announces a multi-frame message. */
  bell(poll) {
    if (poll) this.pollFor++;
    this.pump();
  }

  armWait() {
    if (this.closed) return;
    if (this.bells && !this.waiting && this.pending.size === 0) {
      // Main, atomics, a worker that says `bells` (protocol.md §7): it rings
      // for every frame but a reply's that this side does not poll for, so
      // with no call of its own pending this side waits for the bell alone:
      // it says it no longer polls and looks once more. A waitAsync wake-up
      // by another thread costs the page a scheduler slice now and then
      // (docs/architecture.md, "The worker wakes an idle page by a message").
      if (this.box.unpoll()) this.schedulePump();
      return;
    }
    if (this.waiting) {
      // A wait is pending already: from here a frame must come with a
      // notify (the pump ran meanwhile, saying it polls).
      if (this.box !== null && this.box.unpoll()) this.schedulePump();
      return;
    }
    const p = this.tx.waitAsync();
    if (p === null) return; // doorbell or push transport wakes us
    this.waiting = true;
    p.then(this._onWake);
  }

  // ------------------------------------------------------------ time-outs, interrupts

  /**
   * Runs `fn` with `ms` as the time-out of every call it starts synchronously
   * (0 = none), and returns what `fn` returns.
   */
  withTimeout(ms, fn) {
    checkNumber("withTimeout: ms", ms);
    if (typeof fn !== "function") throw new TypeError("withTimeout: the second argument must be a function");
    const prev = this.timeoutOverride;
    this.timeoutOverride = ms;
    try {
      return fn();
    } finally {
      this.timeoutOverride = prev;
    }
  }

  /**
   * Main: the worker is blocked in a call main is serving; answer its
   * innermost one now with an InterruptError thrown in the worker. The
   * handler's result, when it comes, is dropped. False if the worker is not
   * blocked in a call main is serving.
   */
  interrupt(reason) {
    if (this.closed || this.serving.length === 0) return false;
    const msg = this.serving[this.serving.length - 1];
    this.untrack(msg);
    if (this.inFlight.has(msg.seq)) this.cancelled.add(msg.seq);
    const what = describeOp(msg);
    this.reply(msg.seq, false, new InterruptError(`${what} was interrupted by the main thread (BridgeWorker.interrupt())` +
      (reason === undefined ? "" : `: ${reason}`)), false, msg);
    return true;
  }

  // ------------------------------------------------------------ shutdown

  close(err) {
    if (this.closed) return;
    this.closed = err;
    for (const p of this.pending.values()) {
      if (p.timer !== null) clearTimeout(p.timer);
      if (p.check) clearTimeout(p.check);
      p.reject(err);
    }
    this.pending.clear();
    for (const list of this.parked.values()) for (const p of list) clearTimeout(p.timer);
    this.parked.clear();
    this.queue.length = 0;
    if (this.releaseTimer !== null) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    try {
      this.tx.close();
    } catch {
      // already gone
    }
    this.refs.clear();
    if (this.wid !== 0) waitFor.removeWorker(this.wid);
  }

  stats() {
    const s = this.refs.stats();
    s.pendingCalls = this.pending.size;
    s.served = this.served;
    return s;
  }
}

// The `transform` hook on what a request sends: arguments (in place: the
// arrays are the call's own), a set value, a prototype. A bridge proxy goes
// as it is (as reflected-ffi skips its own proxies): it is the peer's object,
// and asking an interpreter's transform about it would probe it remotely
// (MicroPython's `instanceof PyProxy` walks its prototype chain).
function transformValue(fn, v) {
  return v !== null && (typeof v === "object" || typeof v === "function") && PROXY_STATE.has(v) ? v : fn(v);
}

function transformOp(fn, op) {
  const args = op.args;
  if (args !== undefined && args !== null) for (let i = 0; i < args.length; i++) args[i] = transformValue(fn, args[i]);
  if (op.t === "set") op.value = transformValue(fn, op.value);
  else if (op.t === "set_prototype_of") op.proto = transformValue(fn, op.proto);
}

// The Describe snapshot of a result that crosses by reference and is this
// side's own object (a peer's proxy coming back needs none), else null.
function describedSnapshot(v) {
  if (v === null || (typeof v !== "object" && typeof v !== "function") || PROXY_STATE.has(v)) return null;
  try {
    return describeObject(v);
  } catch {
    return null; // (a revoked Proxy): the asker's probes ask one by one
  }
}

// An apply's `this` when it is this side's own object: its prototype chain
// `[P1, ..., Pn, null]` (no null at the end: cut after CHAIN_MAX links), else
// null. Interpreters check the receiver after a method call (Pyodide's
// pyproxy_Check walks it for `instanceof PyProxy`).
function chainOf(v) {
  if (v === null || (typeof v !== "object" && typeof v !== "function") || PROXY_STATE.has(v)) return null;
  try {
    return prototypeChain(v);
  } catch {
    return null;
  }
}

function settle(msg) {
  if (msg.ok) return msg.value;
  throw reviveError(msg.value);
}

const SYNC_CALL = Symbol("sync call");
const REPLY = "the reply to";

// Text for a message, made only when an error needs it.
function describeWhat(label, what) {
  if (label !== null && typeof label === "object") {
    if (label.op !== undefined) return describeOp(label); // a request being replied to
    const name = proxyName(label);
    if (what === "()") return `${name}()`;
    if (what === "new") return `new ${name}()`;
    if (typeof what === "symbol") return `${name}[${what.description}]`;
    return typeof what === "string" ? `${name}.${what}` : name;
  }
  if (what === SYNC_CALL) return `sync.${label}()`;
  return what === null ? String(label) : `${label} ${describeWhat(what, null)}`;
}

// A served request's name in deadlock messages: `proxy.main_task()` for a
// sync function, `window.x (set)` and the like for a proxy operation.
function callLabel(msg) {
  return msg.op.t === "call" ? `proxy.${msg.op.name}()` : opLabel(msg);
}

function frameName(label) {
  return typeof label === "string" ? label : proxyName(label);
}

function describeOp(msg) {
  const op = msg.op;
  if (op.t === "call") return `sync.${op.name}()`;
  return opLabel(msg);
}
