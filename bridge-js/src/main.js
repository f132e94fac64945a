// Main thread entry point: `BridgeWorker`.
//
//   import { BridgeWorker } from "worker-bridge";
//   const w = new BridgeWorker(new URL("./worker.js", import.meta.url), { type: "module" });
//   w.sync.location = () => location.href;   // the worker may call this synchronously
//   await w.sync.compute(1, 2);              // calls what the worker exposed
//
// Under Node the same class runs on `node:worker_threads` (the fast test tier).

import { Endpoint, AtomicsTransport, PostMessageTransport, TAG, DEFAULT_SPIN_MS, DEFAULT_EVENT_WAIT_MS, useWaitFor, checkNumber, checkFunction } from "./endpoint.js";
import { waitFor } from "./main-core.js";
import { channelBytes, MailboxError } from "./mailbox.js";
import { makeSyncProxy } from "./sync-proxy.js";
import { adoptChannels } from "./adopt.js"; // channels in a worker's wasm memory (docs/rust.md, threads)
export { adoptedStats } from "./adopt.js";
import { ClosedError, BridgeError } from "./errors.js";
// The service-worker transport (./transport-sw.js, issue 6) is imported on
// demand below: a page on the Atomics transport never loads it.

export { BridgeError, DeadlockError, TimeoutError, InterruptError, ClosedError } from "./errors.js";
export { release } from "./refs.js";
export { transfer } from "./transfer.js";

useWaitFor(waitFor);

import { DEFAULT_CAPACITY, DEFAULT_MAX_MESSAGE, DEFAULT_MAX_NESTING } from "./protocol.js";
// Read once at import: tests delete Atomics.waitAsync before importing to
// exercise the doorbell path.
const HAS_WAIT_ASYNC = typeof Atomics === "object" && typeof Atomics.waitAsync === "function";
// Main->worker calls: how long the page polls for the reply and the worker
// for the next call (ms). 0: both park at once, which measured faster than
// polling on every machine load tried; the page still looks once for the
// reply (docs/benchmarks.md, "Main->worker calls" and "(stop 16)").
const DEFAULT_CALL_SPIN_MS = 0;
// How long (ms) the worker parks in Atomics.wait for main's next call after
// serving one, before its event loop runs again (docs/benchmarks.md,
// "Main->worker calls (stop 15)").
const DEFAULT_CALL_PARK_MS = 2;
const BELL = { [TAG]: "bell" };
const BELL_POLL = { [TAG]: "bell", poll: true };

// A worker that dies unseen (its Worker terminated directly, closed without
// the bridge's wrapper, crashed, stopped by the browser) sends nothing. The
// worker holds a Web Lock of this name for its lifetime; main queues for the
// same lock, which the browser grants when the worker is gone
// (docs/deadlocks.md, "Worker failure"). Unique per worker across the
// origin's pages, without crypto.randomUUID (design principle 10).
let lockCount = 0;
function lockName() {
  const t = typeof performance === "object" ? performance.timeOrigin : Date.now();
  return `worker-bridge:${t}:${++lockCount}:${Math.random().toString(36).slice(2)}`;
}

// Internal option of BridgeWorker: serve the bridge on this existing Worker
// instead of creating one (the coincident-compatible `Worker` subclass of
// ./coincident/main.js is the Worker itself).
export const ON_WORKER = Symbol("worker-bridge: existing Worker");

export function canShareMemory() {
  if (typeof SharedArrayBuffer !== "function" || typeof Atomics !== "object") return false;
  // Browsers expose crossOriginIsolated; Node does not (and always can share).
  return globalThis.crossOriginIsolated !== false;
}

export class BridgeWorker {
  /**
   * @param {string|URL} url  the worker script
   * @param {object} [options]
   * @param {"module"|"classic"} [options.type="module"]
   * @param {string|URL|{url: string|URL, scope?: string, type?: "module"|"classic", reload?: boolean}} [options.serviceWorker]  the service-worker transport when not cross-origin isolated (docs/service-worker.md)
   * @param {number} [options.timeout]  default ms for every call, both ways; omitted = none
   * @param {boolean} [options.reentrant=true]  serve main->worker calls nested in a blocked worker call
   * @param {number} [options.capacity=4259840]  bytes per mailbox frame (a multiple of 8; 4 MiB + 64 KiB)
   * @param {number} [options.maxMessage=268435456]  the largest message, bytes
   * @param {"atomics"|"service-worker"|"async"} [options.transport]  force a transport (tests); default: atomics when possible, else service-worker with the serviceWorker option, else async
   * @param {string} [options.name]  passed to Worker
   * @param {number} [options.spin=0.05]  ms the main thread polls for the worker's next call after serving one (0: none)
   * @param {number} [options.callSpin=0]  ms both sides poll during main->worker calls: the page for the reply, the worker for the next call (0: both park at once)
   * @param {number} [options.callPark=2]  ms the worker's thread parks in Atomics.wait for the next main->worker call after serving one, before its event loop runs again (0: back to the event loop at once)
   * @param {number} [options.maxNesting=64]  main->worker calls nested in blocked worker calls at once; one more is a DeadlockError
   * @param {number} [options.eventWait=50]  ms a DOM event being dispatched waits for a worker listener (atomics transport; 0: none)
   * @param {(value: any) => any} [options.transform]  applied to every argument and result this side sends (docs/api.md)
   * @param {boolean} [options.awaitPromises=true]  a Promise returned by a worker's call of a page function (through a proxy) is awaited before the reply; false: sent by reference, for the worker to await
   */
  constructor(url, options = {}) {
    const {
      type = "module",
      serviceWorker = null,
      timeout = 0,
      reentrant = true,
      capacity = DEFAULT_CAPACITY,
      maxMessage = DEFAULT_MAX_MESSAGE,
      transport = null,
      name,
      spin = DEFAULT_SPIN_MS,
      callSpin = DEFAULT_CALL_SPIN_MS,
      callPark = DEFAULT_CALL_PARK_MS,
      maxNesting = DEFAULT_MAX_NESTING,
      eventWait = DEFAULT_EVENT_WAIT_MS,
      transform = null,
      awaitPromises = true,
    } = options;
    // A bad number fails here, named, not later (endpoint.js's checkNumber;
    // capacity and maxMessage: mailbox.js's channelBytes).
    checkNumber("BridgeWorker: timeout", timeout);
    checkNumber("BridgeWorker: spin", spin);
    checkNumber("BridgeWorker: callSpin", callSpin);
    checkNumber("BridgeWorker: callPark", callPark);
    checkNumber("BridgeWorker: eventWait", eventWait);
    checkNumber("BridgeWorker: maxNesting", maxNesting, true);
    const bytes = channelBytes(capacity, maxMessage); // (checks both, whatever the transport)
    checkFunction("BridgeWorker: transform", transform); // (else the first call fails: "fn is not a function")
    const own = options[ON_WORKER] ?? null;
    if (transport !== null && transport !== "atomics" && transport !== "async" && transport !== "service-worker") {
      throw new TypeError(`BridgeWorker: unknown transport ${JSON.stringify(transport)}; use "atomics", "service-worker" or "async" (or omit it)`);
    }
    // service-worker transport (issue 6): without SharedArrayBuffer, with the option.
    let kind = transport ?? (canShareMemory() ? "atomics" : serviceWorker != null ? "service-worker" : "async");
    if (kind === "service-worker" && serviceWorker == null) {
      throw new TypeError('BridgeWorker: transport "service-worker" needs the serviceWorker option (the service worker script URL)');
    }
    if (kind === "atomics" && !canShareMemory()) {
      throw new BridgeError("BridgeWorker: the atomics transport needs SharedArrayBuffer; serve the page with " +
        "`Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`");
    }
    this.serviceWorker = serviceWorker;
    this._doorbell = kind === "atomics" && !HAS_WAIT_ASYNC;
    // Rung towards the worker until its ready message says whether it can
    // wait for frames on its own (no lost wake-up in between).
    this._bellToWorker = true;
    this._worker = null;
    this._outbox = []; // messages posted before the start-up message went
    // The bridge's own channel: every bridge message after the start-up
    // message travels on it, so the Worker's `message` listeners on both
    // sides only ever see what user code posts (docs/protocol.md §1).
    const channel = new MessageChannel();
    this._port = channel.port1;
    this._peerPort = channel.port2;

    let sab = null;
    let tx;
    if (kind === "atomics") {
      sab = new SharedArrayBuffer(bytes);
      tx = new AtomicsTransport(sab, capacity, maxMessage, "main");
    } else if (kind === "service-worker") {
      // Until transport-sw.js is loaded and the service worker controls the
      // page, messages go by postMessage into the outbox; the endpoint then
      // switches to the real transport (below).
      tx = new PostMessageTransport((m, transfer) => this._post(m, transfer));
      tx.kind = kind;
    } else {
      tx = new PostMessageTransport((m, transfer) => this._post(m, transfer));
    }
    // The Worker as soon as nothing above can throw: it fetches and runs its
    // script while this thread sets up the rest (the first BridgeWorker of a
    // page compiles and runs this set-up for the first time: ~5 ms, measured
    // in docs/benchmarks.md "Start-up (stop 15)"). The start-up message
    // follows at the end of this constructor, long before the worker's
    // script has run and can read it.
    const worker = own === null && kind !== "service-worker" && typeof globalThis.Worker === "function"
      ? new globalThis.Worker(url, name === undefined ? { type } : { type, name })
      : null;
    this.transport = kind;
    // Not a Worker left running behind a constructor that threw.
    try { this._ep = new Endpoint({
      side: "main",
      transport: tx,
      timeout,
      reentrant,
      spinMs: spin,
      replySpinMs: callSpin,
      maxNesting,
      name,
      maxMessage,
      eventWaitMs: eventWait,
      transform,
      awaitPromises,
      globalObj: globalThis,
      ringBell: kind === "atomics" ? (poll) => { if (this._bellToWorker) this._post(poll ? BELL_POLL : BELL); } : null,
      onError: (e) => this._reportError(e),
      post: (m, transfer) => this._post(m, transfer),
    }); } catch (e) { worker?.terminate(); throw e; }
    this.sync = makeSyncProxy(this._ep, (name) => (...args) => this._ep.callAsync(0, { t: "call", name, args }, name));

    let resolveReady, rejectReady;
    this.ready = new Promise((res, rej) => { resolveReady = res; rejectReady = rej; });
    // Nobody may await `ready`; a failed start still rejects every call.
    this.ready.catch(() => {});
    this._resolveReady = resolveReady;
    this._rejectReady = rejectReady;
    this._started = false;

    // Browsers only: Node reports a dead worker by its 'exit' event.
    this._lock = typeof globalThis.Worker === "function" && typeof globalThis.navigator?.locks?.request === "function"
      ? lockName() : null;
    this._unwatch = null;

    const init = {
      [TAG]: 1,
      lock: this._lock,
      sab,
      capacity,
      maxMessage,
      transport: kind,
      timeout,
      reentrant,
      doorbell: this._doorbell,
      spin,
      callSpin,
      callPark,
      // The worker may keep its proxy of `document`: on a Window it is
      // unforgeable (an own, non-configurable property), never replaced.
      doc: Object.getOwnPropertyDescriptor(globalThis, "document")?.configurable === false,
    };

    if (own !== null) {
      // The Worker exists already: attach now. On the service-worker
      // transport the start-up message must wait for the service worker, so
      // the channel goes first and the start-up message follows on it.
      this._attach(own, false);
      if (kind === "service-worker") this._postWorker({ [TAG]: 1, port: this._peerPort, wait: true }, [this._peerPort]);
      else this._start(init);
    }
    if (kind === "service-worker") {
      // The worker must start once the service worker controls the page, so
      // that its requests reach it; messages wait in the outbox until then.
      import("./transport-sw.js").then(({ link, ServiceWorkerMainTransport }) => {
        if (this._ep.closed) return null;
        link({ TAG, MailboxError, BridgeError, ClosedError });
        const swTx = new ServiceWorkerMainTransport(serviceWorker, (m, transfer) => this._post(m, transfer));
        swTx.onFail = (e) => this._fail(e);
        this._ep.tx = swTx;
        return swTx.ready;
      }).then((sw) => {
        if (this._ep.closed || sw === null) return;
        init.sw = sw;
        if (own !== null) {
          this._port.postMessage(init);
          this._flush();
        } else {
          this._attach(new globalThis.Worker(url, name === undefined ? { type } : { type, name }), false);
          this._start(init);
        }
      }, (e) => this._fail(e));
    } else if (own !== null) {
      // started above
    } else if (worker !== null) {
      this._attach(worker, false);
      this._start(init);
    } else {
      // Node: worker_threads, loaded on demand so browsers never see it.
      const spec = "node:worker_threads";
      import(/* webpackIgnore: true */ spec).then(({ Worker }) => {
        if (this._ep.closed) return;
        const target = typeof url === "string" && url.startsWith("file:") ? new URL(url) : url;
        this._attach(new Worker(target, name === undefined ? {} : { name }), true);
        this._start(init);
      }, (e) => this._fail(new BridgeError(`BridgeWorker: no Worker in this environment: ${e.message}`, { cause: e })));
    }

  }

  // The start-up message goes on the Worker's own stream with the port of
  // the bridge's channel; everything after it goes on the channel.
  _start(init) {
    this._postWorker({ ...init, port: this._peerPort }, [this._peerPort]);
    this._flush();
  }

  _flush() {
    const queued = this._outbox;
    this._outbox = null;
    for (const [m, t] of queued) this._post(m, t);
  }

  _attach(worker, node) {
    this._worker = worker;
    // The Worker's own postMessage (a subclass may override it).
    const post = node ? worker.postMessage : globalThis.Worker.prototype.postMessage;
    this._postWorker = (m, transfer) => post.call(worker, m, transfer);
    const onMessage = (data) => {
      if (data === null || typeof data !== "object") return;
      const t = data[TAG];
      if (t === "m") this._ep.receive(data.b, data.x ?? null);
      else if (t === "bell") this._ep.bell(data.poll === true);
      else if (t === "adopt") {
        try { adoptChannels(this, data); } catch (e) { this._fail(e); }
      } else if (t === "sw-announce") this._ep.tx.reannounce?.(); // service-worker transport
      else if (t === "sw-closed") this._ep.closedByPeer(); // the worker closed its end (self.close())
      else if (t === "locked") this._watchLock(); // the worker holds its lifetime lock
      else if (t === "failed") { // the worker can no longer serve (a Rust panic)
        this._fail(new ClosedError(`the worker stopped serving: ${data.reason}; every pending call was rejected. Create a new BridgeWorker to go on`));
      }
      else if (t === "ready") {
        this._started = true;
        // Ring the worker only if it cannot wait for frames by itself.
        this._bellToWorker = data.waitAsync !== true;
        // transfer(): the worker takes moved buffers beside the mailbox.
        this._ep.peerTakesMoves = data.transfer === true;
        // Atomics (protocol.md §7): a worker that says `bells` wakes the page
        // by message, except for replies, which the page waits for in
        // waitAsync while it has calls pending (Endpoint.armWait); one that
        // rings with its first frame (`firstBell`), by message once, then
        // waitAsync; an older one, waitAsync from here. (A page without
        // waitAsync is rung for every frame: no `bells` there.)
        this._ep.bells = data.bells === true && this._ep.box !== null && !this._doorbell;
        if (data.firstBell !== true || this._ep.bells) this._ep.armWait();
        this._resolveReady();
      }
    };
    const port = this._port;
    if (node) {
      port.on("message", onMessage);
      // A Rust worker's JS bootstrap answers on the Worker's own stream.
      worker.on("message", onMessage);
      worker.on("error", (e) => this._fail(new ClosedError(`the worker crashed: ${e && e.message}`, { cause: e })));
      worker.on("exit", (code) => this._fail(new ClosedError(`the worker exited (code ${code}); every pending call was rejected. Create a new BridgeWorker to go on`)));
    } else {
      port.addEventListener("message", (e) => onMessage(e.data));
      port.start();
      // A Rust worker's JS bootstrap (docs/rust.md) answers on the Worker's
      // own stream; no user listener sees those messages either.
      worker.addEventListener("message", (e) => {
        const data = e.data;
        if (data !== null && typeof data === "object" && data[TAG] !== undefined) {
          e.stopImmediatePropagation();
          onMessage(data);
        }
      });
      worker.addEventListener("error", (e) => {
        // Before the handshake an error means the script did not load.
        if (!this._started) {
          this._fail(new ClosedError(`the worker script failed to load or threw while starting: ${e.message || "see the console"}`));
        }
      });
    }
  }

  // Queue for the worker's lifetime lock: granted when the worker is gone.
  _watchLock() {
    if (this._lock === null || this._unwatch !== null || this._ep.closed) return;
    const abort = new AbortController();
    this._unwatch = () => abort.abort();
    globalThis.navigator.locks.request(this._lock, { signal: abort.signal }, () => {
      this._fail(new ClosedError("the worker stopped without BridgeWorker.terminate() (its Worker was terminated " +
        "directly, it closed itself past the bridge, crashed or was stopped by the browser); every pending call " +
        "was rejected. Create a new BridgeWorker to go on"));
    }).catch(() => {}); // aborted: the bridge closed first
  }

  _post(m, transfer) {
    if (this._outbox !== null) this._outbox.push([m, transfer]);
    else if (transfer === undefined) this._port.postMessage(m);
    else this._port.postMessage(m, transfer);
  }

  _fail(err) {
    if (this._unwatch !== null) this._unwatch();
    if (this._ep.closed) return;
    this._rejectReady(err);
    this._ep.close(err);
    this._port.close();
  }

  _reportError(e) {
    if (typeof console === "object") console.error("worker-bridge:", e);
  }

  /** The underlying Worker (a node:worker_threads Worker under Node; null until it exists there). */
  get worker() {
    return this._worker;
  }

  /** Live reference counts of this side of the channel. */
  stats() {
    return this._ep.stats();
  }

  /**
   * Runs `fn` with a time-out of `ms` (0: none) for every call it starts
   * synchronously, instead of the `timeout` option; returns what `fn`
   * returns: `await w.withTimeout(500, () => w.sync.compute(1, 2))`.
   */
  withTimeout(ms, fn) {
    return this._ep.withTimeout(ms, fn);
  }

  /**
   * The worker is blocked in a sync call main is serving: its innermost one
   * throws an InterruptError in the worker now (the handler's result is
   * dropped when it comes). Returns false when the worker is not blocked in
   * one of main's functions.
   */
  interrupt(reason) {
    return this._ep.interrupt(reason);
  }

  /** Stops the worker and rejects every pending call with a ClosedError. */
  terminate() {
    this._fail(new ClosedError("the worker was terminated (BridgeWorker.terminate()); this call can no longer complete"));
    if (this._worker !== null) this._worker.terminate();
  }
}
