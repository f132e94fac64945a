// Worker entry point: `bridge()`.
//
//   import { bridge } from "worker-bridge/worker";
//   const { sync, window } = await bridge();
//   sync.compute = (a, b) => a + b;           // the main thread may call this
//   window.document.title = sync.location();  // synchronous calls into main
//
// The message listener is installed while this module evaluates, before any
// code of the importing module runs, so the start-up message is never lost.

import { Endpoint, AtomicsTransport, PostMessageTransport, TAG, checkFunction } from "./endpoint.js";
import { PROXY_STATE } from "./refs.js";
import { MailboxError } from "./mailbox.js";
import { BridgeError, ClosedError } from "./errors.js";
// The service-worker transport (./transport-sw.js, issue 6) is imported on
// demand in onMessage: a worker on the Atomics transport never loads it.
import { makeSyncProxy } from "./sync-proxy.js";
import { transfer } from "./transfer.js";

export { BridgeError, DeadlockError, TimeoutError, InterruptError, ClosedError } from "./errors.js";
export { transfer } from "./transfer.js";

const HAS_WAIT_ASYNC = typeof Atomics === "object" && typeof Atomics.waitAsync === "function";
const BELL = { [TAG]: "bell" };
const BELL_POLL = { [TAG]: "bell", poll: true };

let scope = null; // the Worker's own stream: self, or parentPort
let port = null; // where bridge messages to the main thread go: the bridge's channel (or `scope`)
let transformHook = null; // bridge({ transform })
let remoteThen = false; // bridge({ remoteThen })
let endpoint = null;
let result = null;
let resolveBridge;
let rejectBridge;
let early = null; // messages that arrive while the service-worker transport loads
let outgoing = null; // convertOutgoing()
const started = new Promise((res, rej) => { resolveBridge = res; rejectBridge = rej; });
started.catch(() => {});

// The start-up message carries the port of the bridge's own channel
// (main.js): every later bridge message travels there, so user `message`
// listeners never see one.
function listen(p) {
  port = p;
  if (scope !== globalThis) p.on("message", onMessage); // Node's MessagePort
  else {
    p.addEventListener("message", (e) => onMessage(e.data));
    p.start();
  }
}

function onMessage(data) {
  if (data === null || typeof data !== "object") return;
  const t = data[TAG];
  if (t === undefined) return;
  if (t === 1) {
    if (endpoint !== null || early !== null) return;
    if (data.port != null && port === scope) listen(data.port);
    if (data.wait === true) return; // the start-up message follows on the channel
    if (data.transport !== "service-worker") {
      start(data, null);
      return;
    }
    early = [];
    import("./transport-sw.js").then(({ link, ServiceWorkerWorkerTransport }) => {
      link({ TAG, MailboxError, BridgeError, ClosedError });
      start(data, ServiceWorkerWorkerTransport);
      // What came meanwhile is handled as the next task, in order, after the
      // code that awaits bridge() had its turn to assign sync.* functions.
      setTimeout(() => {
        const queued = early;
        early = null;
        if (endpoint !== null) for (const m of queued) onMessage(m);
      }, 0);
    }, (e) => {
      early = null;
      rejectBridge(new BridgeError(`worker-bridge: loading the service-worker transport failed: ${e && e.message}`, { cause: e }));
    });
  } else if (early !== null) {
    early.push(data); // kept, in order, while the service-worker transport loads
  } else if (endpoint === null) {
    return; // the start-up message always comes first; nothing to serve yet
  } else if (t === "m") {
    endpoint.receive(data.b, data.x ?? null);
  } else if (t === "bell") {
    endpoint.bell(data.poll === true);
  }
}

if (typeof globalThis.WorkerGlobalScope === "function" && globalThis instanceof globalThis.WorkerGlobalScope) {
  scope = port = globalThis;
  // Installed before any code of the importing module runs, so it is the
  // first listener: bridge messages stop here.
  globalThis.addEventListener("message", (e) => {
    const data = e.data;
    if (data !== null && typeof data === "object" && data[TAG] !== undefined) {
      e.stopImmediatePropagation();
      onMessage(data);
    }
  });
} else if (typeof process === "object" && process.versions != null && process.versions.node) {
  // A variable specifier keeps bundlers from resolving this for browsers.
  const spec = "node:worker_threads";
  const { parentPort } = await import(/* webpackIgnore: true */ spec);
  if (parentPort !== null) {
    scope = port = parentPort;
    parentPort.on("message", onMessage);
  }
}

function makeSync(ep) {
  const blocking = ep.tx.blocking;
  return makeSyncProxy(ep, (name) => blocking
    ? (...args) => ep.callSync(name, args)
    : (...args) => ep.callAsync(0, { t: "call", name, args }, name));
}

function start(init, ServiceWorkerWorkerTransport) {
  const post = (m, transfer) => {
    if (transfer === undefined) port.postMessage(m);
    else port.postMessage(m, transfer);
  };
  const ring = (poll) => port.postMessage(poll ? BELL_POLL : BELL);
  let tx;
  try {
    tx = init.transport === "atomics"
      ? new AtomicsTransport(init.sab, init.capacity, init.maxMessage, "worker")
      : init.transport === "service-worker"
        ? new ServiceWorkerWorkerTransport(init.sw, post, (bytes) => endpoint.receive(bytes))
        : new PostMessageTransport(post);
  } catch (e) {
    rejectBridge(new BridgeError(`worker-bridge: bad start-up message from the main thread: ${e.message}`, { cause: e }));
    return;
  }
  const ep = new Endpoint({
    side: "worker",
    transport: tx,
    timeout: init.timeout,
    reentrant: init.reentrant,
    // Its idle loop polls for main's next call (callSpin); its own async
    // calls poll for main's reply as main polls after serving (spin).
    spinMs: init.callSpin ?? 0,
    replySpinMs: init.spin,
    parkMs: init.callPark ?? 0,
    maxMessage: init.maxMessage,
    transform: transformHook,
    globalObj: globalThis,
    // Main is woken by a bell for every frame but a reply's that it is not
    // polling for (protocol.md §7, `bells`).
    ringBell: init.doorbell === true ? ring : tx.kind === "atomics" ? (poll, reply) => { if (poll || (!reply && !tx.out.peerPolls())) ring(poll); } : null,
    onError: (e) => { if (typeof console === "object") console.error("worker-bridge:", e); },
    post,
  });
  endpoint = ep;
  ep.remoteThen = remoteThen;
  ep.stableDocument = init.doc === true;
  const refs = ep.refs;
  refs.convert = outgoing;
  result = Object.freeze({
    sync: makeSync(ep),
    window: ep.windowProxy(),
    isWindowProxy: (x) => {
      const st = PROXY_STATE.get(x);
      return st !== undefined && st.tables === refs;
    },
    native: tx.kind === "atomics",
    transport: tx.kind,
    release: (p) => refs.release(p),
    transfer,
    stats: () => ep.stats(),
    withTimeout: (ms, fn) => ep.withTimeout(ms, fn),
  });
  // self.close() sends the main thread nothing: close the channel first, so
  // main rejects its pending calls at once instead of waiting for replies.
  if (scope === globalThis && typeof globalThis.close === "function") {
    const close = globalThis.close;
    globalThis.close = function () {
      ep.close(new ClosedError("the worker closed itself (self.close())"));
      return close.call(this);
    };
  }
  port.postMessage({ [TAG]: "ready", waitAsync: HAS_WAIT_ASYNC, transfer: true, firstBell: true, bells: true });
  // Hold main's lock for this worker's lifetime: the browser releases it when
  // the worker is gone, however it died, and main then rejects what is
  // pending (main.js, _watchLock).
  if (typeof init.lock === "string" && typeof globalThis.navigator?.locks?.request === "function") {
    globalThis.navigator.locks.request(init.lock, () => {
      port.postMessage({ [TAG]: "locked" });
      return new Promise(() => {});
    }).catch(() => {});
  }
  resolveBridge(result);
  // Serve the main thread's calls once the code after `await bridge()` had
  // its turn to assign `sync.*` functions.
  if (tx.kind === "atomics") ep.schedulePump();
}

/**
 * `fn(obj)` is asked about every non-function object this worker is about to
 * send to the main thread by reference; returning a different value sends
 * that value instead, by value (copied). `null` removes the hook. Used by
 * worker-bridge/python to send Python lists, dicts and bytes as JS arrays,
 * objects and Uint8Arrays, as PyScript does.
 */
export function convertOutgoing(fn) {
  checkFunction("convertOutgoing: fn", fn);
  outgoing = fn;
  if (endpoint !== null) endpoint.refs.convert = fn;
}

/**
 * Resolves, once the main thread's start-up message arrived, to
 * `{ sync, window, isWindowProxy, native, transport, release, stats }`.
 * `options.transform` is applied to every argument and result this side
 * sends (docs/api.md); the last one given applies. `options.remoteThen`:
 * proxies read `then` from the main thread, so a main-thread Promise that
 * a call returned by reference (BridgeWorker's `awaitPromises: false`) can
 * be awaited, and a function proxy's `call` / `apply` are answered locally
 * (one apply instead of a get and an apply); interpreters need the first
 * and gain from the second (docs/pyscript.md).
 */
export function bridge(options) {
  if (options != null && options.transform !== undefined) {
    const fn = options.transform;
    checkFunction("bridge({ transform }): transform", fn);
    transformHook = fn;
    if (endpoint !== null) endpoint.transform = fn;
  }
  if (options != null && options.remoteThen !== undefined) {
    remoteThen = options.remoteThen === true;
    if (endpoint !== null) endpoint.remoteThen = remoteThen;
  }
  if (scope === null) {
    return Promise.reject(new BridgeError("worker-bridge: bridge() must run inside a worker started with " +
      "`new BridgeWorker(url)` from the main thread (import it from \"worker-bridge/worker\" in the worker script)"));
  }
  return started;
}
