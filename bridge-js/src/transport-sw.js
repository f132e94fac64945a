// The service-worker transport: the same blocking primitive as the Atomics
// transport (docs/protocol.md §4, DESIGN principle 1) for pages that are not
// cross-origin isolated. See docs/service-worker.md.
//
//   worker -> main   postMessage (a push transport: main.js hands the bytes
//                    to Endpoint.receive)
//   main -> worker   while the worker is blocked in a call (a reply, or a
//                    request nested into its call): posted to the service
//                    worker, which answers the worker's parked synchronous
//                    XMLHttpRequest with it; otherwise postMessage.
//
// Every message through the service worker carries a number `n` per channel;
// the worker acknowledges what it has (`after`) on its next wait, so an answer
// that got lost is sent again, and a gap (the service worker was stopped while
// it held a message) is an error, never a hang.

import { SW_TAG, WAIT_PATH, SW_HEADER, PARK_MS } from "./sw.js";

// main.js and worker.js load this module on demand (a dynamic import()) and
// hand it the classes it shares with them, instead of it importing
// endpoint.js, mailbox.js and errors.js: a bundler that splits code would
// otherwise move those into a separate chunk that every page loads.
let TAG, MailboxError, BridgeError, ClosedError;
/** `deps`: { TAG, MailboxError, BridgeError, ClosedError } of the importing bundle. */
export function link(deps) {
  ({ TAG, MailboxError, BridgeError, ClosedError } = deps);
}

export const TRANSPORT_KIND = "service-worker";

/** Consecutive failed requests (network errors) before the worker gives up. */
const MAX_NETWORK_ERRORS = 3;
/** Waits answered "unknown session" before the worker gives up (each held ~1 s by the SW). */
const MAX_UNKNOWN = 4;
/** What a Rust worker's wait needs besides its start-up message (rust.js, `initBridgeSw`). */
export const RUST_LIMITS = { header: SW_HEADER, maxNetworkErrors: MAX_NETWORK_ERRORS, maxUnknown: MAX_UNKNOWN };
/** How long BridgeWorker waits for the page to become controlled once the SW is active. */
const CONTROL_WAIT_MS = 4_000;
const RELOAD_KEY = "worker-bridge:sw-reload";

function randomHex(bytes) {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  let s = "";
  for (let i = 0; i < a.length; i++) s += (a[i] < 16 ? "0" : "") + a[i].toString(16);
  return s;
}

// ---------------------------------------------------------------- main side

let sessionToken = null;
/** The page's per-session token (random, 128 bits). */
export function pageToken() {
  if (sessionToken === null) {
    sessionToken = randomHex(16);
    // The page is going away for good (not into the back/forward cache): let
    // the service worker drop the session now rather than at its next sweep.
    addEventListener("pagehide", (e) => {
      if (e.persisted) return;
      try {
        navigator.serviceWorker.controller?.postMessage({ [SW_TAG]: "bye", token: sessionToken });
      } catch { /* no service worker to tell */ }
    });
  }
  return sessionToken;
}

const registrations = new Map(); // resolved script URL + scope -> Promise<{ registration, scope }>

function swOptions(option) {
  if (typeof option === "string" || option instanceof URL) return { url: String(option) };
  if (option !== null && typeof option === "object" && (typeof option.url === "string" || option.url instanceof URL)) {
    return { url: String(option.url), scope: option.scope, type: option.type, reload: option.reload };
  }
  throw new TypeError("BridgeWorker: the serviceWorker option must be the service worker's URL " +
    '(e.g. "./bridge-sw.js") or { url, scope?, type?, reload? }');
}

function waitForController(container, ms) {
  if (container.controller !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (v) => {
      clearTimeout(t);
      container.removeEventListener("controllerchange", onChange);
      resolve(v);
    };
    const onChange = () => { if (container.controller !== null) done(true); };
    const t = setTimeout(() => done(container.controller !== null), ms);
    container.addEventListener("controllerchange", onChange);
  });
}

function waitActive(reg) {
  // An active version is enough (an update may wait behind it for ever).
  if (reg.active !== null) return Promise.resolve();
  const sw = reg.installing ?? reg.waiting;
  if (sw === null) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (sw.state === "activated") {
        sw.removeEventListener("statechange", check);
        resolve();
      } else if (sw.state === "redundant") {
        sw.removeEventListener("statechange", check);
        // Another version took over, or the install failed.
        if (reg.active !== null) resolve();
        else reject(new BridgeError("worker-bridge: the service worker failed to install (its script threw or could not be fetched); see the console of the service worker"));
      }
    };
    sw.addEventListener("statechange", check);
    check();
  });
}

/**
 * Registers the service worker (once per page and URL) and resolves when it
 * is active and controls this page: `{ registration, scope }`. If the page
 * is still not controlled, reloads it once (opt out with `reload: false`).
 */
export function ensureServiceWorker(option) {
  const o = swOptions(option);
  const container = globalThis.navigator?.serviceWorker;
  if (container === undefined) {
    return Promise.reject(new BridgeError("worker-bridge: this page cannot use a service worker (navigator.serviceWorker is missing: " +
      "the page must be served over https or from localhost, and not in a private mode that disables service workers). " +
      "Serve it with `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp` instead."));
  }
  const url = new URL(o.url, location.href).href;
  const key = `${url} ${o.scope ?? ""}`;
  let p = registrations.get(key);
  if (p !== undefined) return p;
  p = (async () => {
    let reg;
    const ctl = container.controller;
    const known = ctl !== null && ctl.scriptURL === url ? await container.getRegistration(o.scope ?? location.href) : undefined;
    if (known !== undefined && known.active !== null) {
      reg = known; // already installed (e.g. a site's own service worker): do not touch it
    } else {
      const opts = { type: o.type ?? "module" };
      if (o.scope !== undefined) opts.scope = String(o.scope);
      try {
        reg = await container.register(url, opts);
      } catch (e) {
        throw new BridgeError(`worker-bridge: registering the service worker ${url} failed: ${e && e.message}. ` +
          "Check that the script is served as JavaScript, and that a scope wider than its folder is allowed by the " +
          "`Service-Worker-Allowed` response header.", { cause: e });
      }
      await waitActive(reg);
    }
    const controlled = await waitForController(container, CONTROL_WAIT_MS);
    if (!controlled) {
      let reloaded = false;
      try {
        reloaded = sessionStorage.getItem(RELOAD_KEY) === "1";
      } catch {
        reloaded = true; // no storage: never loop
      }
      if (o.reload !== false && !reloaded) {
        try {
          sessionStorage.setItem(RELOAD_KEY, "1");
        } catch { /* see above */ }
        location.reload();
        return new Promise(() => {}); // the page goes away
      }
      throw new BridgeError(`worker-bridge: the service worker ${url} is active but does not control this page ` +
        `(scope ${reg.scope}, page ${location.href}). The page must be inside the scope, and the service worker must ` +
        "call clients.claim() on activate (installBridgeServiceWorker does) or the page must be reloaded once.");
    }
    try {
      sessionStorage.removeItem(RELOAD_KEY);
    } catch { /* no storage */ }
    return { registration: reg, scope: reg.scope };
  })();
  registrations.set(key, p);
  p.catch(() => registrations.delete(key));
  return p;
}

// Reads the message kind without decoding: a Reply, or a Request nested into
// a blocked call of the worker, must reach the blocked worker (through the
// service worker); everything else goes by postMessage. Postcard: the enum
// variant (Request 0, Reply 1) then, for a Request, seq and nested_in varints.
function readVarint(b, pos) {
  let v = 0;
  let shift = 0;
  for (let i = 0; i < 5 && pos.i < b.length; i++) {
    const x = b[pos.i++];
    v += (x & 0x7f) * 2 ** shift;
    if ((x & 0x80) === 0) return v;
    shift += 7;
  }
  return -1;
}
export function toBlockedWorker(bytes) {
  if (bytes.length === 0) return false;
  const kind = bytes[0];
  if (kind === 1) return true; // Reply: the worker is blocked waiting for it
  if (kind !== 0) return false; // Release, Cancel
  const pos = { i: 1 };
  if (readVarint(bytes, pos) < 0) return false;
  return readVarint(bytes, pos) > 0; // nested_in != 0
}

/** The main thread's end: `post(m, transfer)` posts to the worker. */
export class ServiceWorkerMainTransport {
  constructor(option, post) {
    this.kind = TRANSPORT_KIND;
    this.capacity = Infinity;
    this.blocking = false;
    this.post = post;
    this.token = pageToken();
    this.channel = randomHex(8);
    this.sent = 0; // messages numbered through the service worker
    this.scope = null;
    this.registration = null;
    this.closedReason = null;
    this.onFail = null; // set by BridgeWorker: the bridge cannot go on
    /** Resolves to the `sw` part of the worker's start-up message. */
    this.ready = ensureServiceWorker(option).then(({ registration, scope }) => {
      this.registration = registration;
      this.scope = scope;
      this.postSW({ [SW_TAG]: "announce", token: this.token, channel: this.channel, sent: this.sent });
      return { url: new URL(WAIT_PATH, scope).href, token: this.token, channel: this.channel, park: PARK_MS };
    });
  }

  target() {
    const c = navigator.serviceWorker.controller;
    return c ?? this.registration?.active ?? null;
  }

  postSW(m, transfer) {
    const sw = this.target();
    if (sw === null) {
      const reason = "no active worker-bridge service worker controls this page any more (it was unregistered " +
        "or its data cleared during this session), so the blocked worker cannot be answered; reload the page";
      this.closedReason = reason;
      const err = new ClosedError(`worker-bridge: ${reason}`);
      // Every pending call fails (after this send returns).
      if (this.onFail !== null) queueMicrotask(() => this.onFail(err));
      throw err;
    }
    if (transfer === undefined) sw.postMessage(m);
    else sw.postMessage(m, transfer);
  }

  send(bytes) {
    if (this.closedReason !== null) throw new MailboxError("closed", this.closedReason);
    if (this.registration !== null && toBlockedWorker(bytes)) {
      const n = ++this.sent;
      this.postSW({ [SW_TAG]: "msg", token: this.token, channel: this.channel, n, bytes }, [bytes.buffer]);
    } else {
      // Endpoint gives this side a fresh exact-size copy: transfer it.
      this.post({ [TAG]: "m", b: bytes }, [bytes.buffer]);
    }
  }

  /** The worker met an unknown session (the SW restarted): announce again, or fail if the SW is gone. */
  async reannounce() {
    if (this.closedReason !== null || this.registration === null) return;
    let reg;
    try {
      reg = await navigator.serviceWorker.getRegistration(this.scope);
    } catch {
      reg = undefined;
    }
    if (reg === undefined || reg.scope !== this.scope) {
      const reason = `the worker-bridge service worker (scope ${this.scope}) was unregistered during this session, ` +
        "so the worker can no longer block for the main thread; reload the page to register it again";
      // Tell the blocked worker (its held wait answers with this reason) ...
      try {
        this.postSW({ [SW_TAG]: "close", token: this.token, channel: this.channel, reason });
      } catch { /* no service worker at all: the worker's retries run out */ }
      this.closedReason = reason;
      // ... and the page: every pending call fails.
      this.onFail?.(new ClosedError(`worker-bridge: ${reason}`));
      return;
    }
    this.registration = reg;
    this.postSW({ [SW_TAG]: "announce", token: this.token, channel: this.channel, sent: this.sent });
  }

  tryRecv() { return null; }
  recvBlocking() { throw new BridgeError("worker-bridge: the main thread never blocks"); }
  waitAsync() { return null; }
  close() {
    if (this.registration !== null && this.closedReason === null) {
      try {
        this.postSW({ [SW_TAG]: "close", token: this.token, channel: this.channel });
      } catch { /* gone already */ }
    }
    if (this.closedReason === null) this.closedReason = "the channel is closed";
  }
}

// ---------------------------------------------------------------- worker side

const now = () => performance.now();

function notControlled(url, status, what) {
  return new BridgeError(`the worker-bridge service worker does not control this worker: ${url} answered ${what} ` +
    `(status ${status}) instead of the service worker. The worker script (${self.location.href}) must be inside the ` +
    "service worker's scope, and the worker must be created after the service worker controls the page " +
    "(BridgeWorker with the `serviceWorker` option does both; check the scope and the Service-Worker-Allowed header).");
}

/**
 * The worker's end. `init` is the `sw` part of the start-up message
 * `{ url, token, channel, park }`; `post(m, transfer)` posts to the main
 * thread; `deliver(bytes)` hands a message received outside a blocking wait
 * to the endpoint (Endpoint.receive).
 */
export class ServiceWorkerWorkerTransport {
  constructor(init, post, deliver) {
    if (init === null || typeof init !== "object" || typeof init.url !== "string" ||
        typeof init.token !== "string" || typeof init.channel !== "string") {
      throw new TypeError("the service-worker transport needs { url, token, channel } in the start-up message");
    }
    if (typeof XMLHttpRequest !== "function") {
      throw new BridgeError("worker-bridge: this worker has no XMLHttpRequest, which the service-worker transport blocks with");
    }
    this.kind = TRANSPORT_KIND;
    this.capacity = Infinity;
    this.blocking = true;
    this.post = post;
    this.deliver = deliver;
    this.base = `${init.url}?token=${init.token}&channel=${init.channel}`;
    this.park = init.park > 0 ? init.park : PARK_MS;
    this.after = 0; // the last message number received
    this.inbox = [];
    this.closed = false;
    this.deliverScheduled = false;
    this.failed = null; // a fatal error: every later wait throws it
  }

  send(bytes) {
    if (this.closed) throw new MailboxError("closed", "the channel is closed");
    this.post({ [TAG]: "m", b: bytes }, [bytes.buffer]);
  }

  // One synchronous request; puts what arrived into the inbox.
  fetchOnce(waitMs) {
    const url = `${this.base}&after=${this.after}&wait=${Math.max(0, Math.ceil(waitMs))}`;
    let networkErrors = 0;
    let unknown = 0;
    for (;;) {
      const xhr = new XMLHttpRequest();
      xhr.open("GET", url, false);
      xhr.responseType = "arraybuffer";
      try {
        xhr.send();
      } catch (e) {
        // The service worker was stopped or replaced while it held the request.
        if (++networkErrors >= MAX_NETWORK_ERRORS) {
          throw new BridgeError(`worker-bridge: the wait on the service worker failed ${networkErrors} times in a row ` +
            `(${e && e.name}: ${e && e.message}); the service worker was stopped, updated or unregistered, or the ` +
            "server is gone. Reload the page.", { cause: e });
        }
        continue;
      }
      networkErrors = 0;
      const status = xhr.status;
      if (xhr.getResponseHeader(SW_HEADER) === null) {
        throw notControlled(url.slice(0, url.indexOf("?")), status,
          status === 0 ? "nothing (network error)" : `with a ${xhr.getResponseHeader("content-type") || "response"} that did not come from it`);
      }
      if (status === 200) {
        this.unpack(new Uint8Array(xhr.response));
        return;
      }
      if (status === 204) return;
      const text = new TextDecoder().decode(xhr.response ?? new ArrayBuffer(0));
      if (status === 409) {
        // The service worker forgot the session (restarted): ask the page to
        // announce it again; the SW holds the next wait until it does.
        if (++unknown > MAX_UNKNOWN) {
          throw new ClosedError(`${text}; the page did not announce the session again after ${MAX_UNKNOWN} requests. Reload the page.`);
        }
        this.post({ [TAG]: "sw-announce" });
        continue;
      }
      if (status === 410) throw new ClosedError(text);
      throw new BridgeError(`worker-bridge: the service worker refused the wait (status ${status}): ${text}`);
    }
  }

  unpack(body) {
    const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
    let i = 0;
    while (i + 8 <= body.length) {
      const n = v.getUint32(i, true);
      const len = v.getUint32(i + 4, true);
      i += 8;
      if (i + len > body.length) throw new BridgeError("worker-bridge: a truncated answer from the service worker");
      if (n > this.after) {
        this.after = n;
        this.inbox.push(body.slice(i, i + len));
      }
      i += len;
    }
  }

  recvBlocking(timeoutMs) {
    if (this.inbox.length !== 0) return this.inbox.shift();
    if (this.failed !== null) throw this.failed;
    if (this.closed) throw new MailboxError("closed", "the channel is closed");
    const deadline = timeoutMs === Infinity || timeoutMs == null ? Infinity : now() + timeoutMs;
    try {
      for (;;) {
        const left = deadline - now();
        if (left <= 0) {
          // Going back to the event loop: take what is there now, so nothing
          // sent to the blocked worker stays behind in the service worker.
          this.fetchOnce(0);
          this.scheduleDeliver();
          throw new MailboxError("timeout", `no message within ${timeoutMs} ms`);
        }
        this.fetchOnce(Math.min(this.park, left));
        if (this.inbox.length !== 0) {
          const m = this.inbox.shift();
          if (this.inbox.length !== 0) this.scheduleDeliver();
          return m;
        }
      }
    } catch (e) {
      if (e instanceof MailboxError) throw e;
      // Fatal: the service worker is gone or does not control this worker.
      if (e instanceof ClosedError) this.failed = e;
      throw e;
    }
  }

  // Messages left in the inbox when the worker stops blocking are handed to
  // the endpoint from the event loop (unless a new wait takes them first).
  scheduleDeliver() {
    if (this.deliverScheduled) return;
    this.deliverScheduled = true;
    setTimeout(() => {
      this.deliverScheduled = false;
      while (this.inbox.length !== 0 && !this.closed) this.deliver(this.inbox.shift());
    }, 0);
  }

  tryRecv() {
    return this.inbox.length !== 0 ? this.inbox.shift() : null;
  }
  waitAsync() { return null; }
  close() {
    if (this.closed) return;
    this.closed = true;
    // Tell the page (the Atomics transport has a closed flag in shared memory
    // for this): its pending calls fail at once, e.g. after self.close().
    try {
      this.post({ [TAG]: "sw-closed" });
    } catch { /* the page is gone */ }
  }
}
