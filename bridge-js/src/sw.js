// The worker-bridge service worker: the blocking wait for pages that are not
// cross-origin isolated (no SharedArrayBuffer). See docs/service-worker.md.
//
// A worker blocked in a synchronous call waits with a synchronous
// XMLHttpRequest to `<scope>__worker-bridge__/wait?...`; this service worker
// holds that request open until the page posts the worker's next message
// (`{ "worker-bridge-sw": "msg", token, channel, n, bytes }`), then answers
// with it. Queues are keyed by the page's per-session token and the worker's
// channel, so tabs and workers never see each other's messages.
//
// Two ways to deploy it:
//   1. as its own file: copy or serve this module as e.g. `/bridge-sw.js` and
//      pass `serviceWorker: "/bridge-sw.js"` to BridgeWorker; loaded as the
//      service worker script itself, it installs its listeners (and calls
//      skipWaiting + clients.claim so the page is controlled at once);
//   2. merged into a site's own (module) service worker:
//        import { installBridgeServiceWorker } from "worker-bridge/sw";
//        installBridgeServiceWorker(self);
//      It only answers its own URL and messages; everything else falls
//      through to the site's listeners.
//
// This file imports nothing, so it can be served or copied as it is.

export const SW_TAG = "worker-bridge-sw";
/** The path, relative to the service worker's scope, that workers wait on. */
export const WAIT_PATH = "__worker-bridge__/wait";
/** Every answer of this service worker carries this header (its protocol version). */
export const SW_HEADER = "x-worker-bridge";
export const SW_PROTOCOL = "1";

/** A parked wait is answered "nothing yet" (204) after this long. */
export const PARK_MS = 5_000;
/** A wait with an unknown token is held this long for the page to announce it. */
export const UNKNOWN_HOLD_MS = 1_000;
/** A posted message keeps the service worker alive until delivered, at most this long. */
const KEEP_ALIVE_MS = 60_000;
/** How often (at most) the session table is swept for pages that are gone. */
const SWEEP_MS = 10_000;

// Bounds (docs/service-worker.md "Limits"). Anything of the origin can post
// to the service worker or fetch the wait URL, so every table it keeps is
// bounded; past a bound the oldest entry goes, never the newest request.
/** Waits held for tokens nobody announced yet, over all tokens. */
export const MAX_UNKNOWN_WAITS = 64;
/** Sessions (page loads) one page (client) may hold at once; a page has one. */
export const MAX_SESSIONS_PER_PAGE = 4;
/** Sessions over all pages of the origin. */
export const MAX_SESSIONS = 256;
/** Worker channels of one session (live workers plus recently closed ones). */
export const MAX_CHANNELS = 256;

const ID_RE = /^[0-9a-f]{16,64}$/;

function answer(status, body, extra) {
  const headers = { [SW_HEADER]: SW_PROTOCOL, "cache-control": "no-store", "content-type": status === 200 ? "application/octet-stream" : "text/plain; charset=utf-8" };
  if (extra) Object.assign(headers, extra);
  return new Response(status === 204 ? null : body, { status, headers });
}

function u32pair(a, b) {
  const h = new Uint8Array(8);
  const v = new DataView(h.buffer);
  v.setUint32(0, a, true);
  v.setUint32(4, b, true);
  return h;
}

/**
 * The service worker's state, independent of the event plumbing so it can be
 * driven directly. `clientAlive(id) -> Promise<boolean>` tells whether a page
 * (by client id) still exists.
 */
export class BridgeServiceWorkerState {
  constructor({
    clientAlive = null, parkMs = PARK_MS, unknownHoldMs = UNKNOWN_HOLD_MS, keepAliveMs = KEEP_ALIVE_MS,
    maxUnknownWaits = MAX_UNKNOWN_WAITS, maxSessionsPerPage = MAX_SESSIONS_PER_PAGE,
    maxSessions = MAX_SESSIONS, maxChannels = MAX_CHANNELS,
  } = {}) {
    this.clientAlive = clientAlive;
    this.maxUnknownWaits = maxUnknownWaits;
    this.maxSessionsPerPage = maxSessionsPerPage;
    this.maxSessions = maxSessions;
    this.maxChannels = maxChannels;
    this.keepAliveMs = keepAliveMs;
    this.parkMs = parkMs;
    this.unknownHoldMs = unknownHoldMs;
    // token -> { clientId, channels: Map<channel, chan> }
    this.sessions = new Map();
    // token -> Set<wake> : waits held for a token not announced yet
    this.unknownWaits = new Map();
    this.unknownWaitCount = 0;
    this.lastSweep = 0;
    this.sweeping = null;
  }

  // Map order is insertion order: a session or channel used again is moved to
  // the end, so the first entry is always the least recently used one.
  session(token, clientId) {
    let s = this.sessions.get(token);
    if (s === undefined) {
      s = { clientId, channels: new Map() };
      this.sessions.set(token, s);
      this.boundSessions(token, s);
      // A new page load: the page it replaced (a reload) is usually gone now,
      // so look at once instead of at the next periodic sweep.
      this.sweepSoon();
    } else {
      this.sessions.delete(token);
      this.sessions.set(token, s);
      if (clientId != null) s.clientId = clientId;
    }
    return s;
  }

  boundSessions(token, s) {
    if (s.clientId != null) {
      const mine = [];
      for (const [t, o] of this.sessions) if (o.clientId === s.clientId && t !== token) mine.push(t);
      while (mine.length >= this.maxSessionsPerPage) {
        this.dropSession(mine.shift(), `the page opened more than ${this.maxSessionsPerPage} bridge sessions; ` +
          "the oldest was dropped (each page load needs one)");
      }
    }
    while (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.keys().next().value;
      this.dropSession(oldest, `more than ${this.maxSessions} bridge sessions were open in this origin; ` +
        "the least recently used one was dropped");
    }
  }

  channel(s, channel) {
    let c = s.channels.get(channel);
    if (c === undefined) {
      // queue: [{ n, bytes, delivered }], top: the highest n the page sent
      c = { queue: [], top: 0, waiter: null, closed: null };
      s.channels.set(channel, c);
      if (s.channels.size > this.maxChannels) this.evictChannel(s);
    } else {
      s.channels.delete(channel);
      s.channels.set(channel, c);
    }
    return c;
  }

  // Closed channels go first (kept only so their worker's next wait learns
  // why), then the least recently used live one.
  evictChannel(s) {
    let victim;
    for (const [id, c] of s.channels) {
      if (c.closed !== null) {
        victim = id;
        break;
      }
    }
    victim ??= s.channels.keys().next().value;
    const c = s.channels.get(victim);
    s.channels.delete(victim);
    this.closeChannel(c, `more than ${this.maxChannels} workers used this page's bridge session; ` +
      "this one was the least recently used and was dropped");
  }

  closeChannel(c, reason) {
    c.closed = reason;
    for (const e of c.queue) e.delivered?.();
    c.queue.length = 0;
    this.wake(c);
  }

  wakeUnknown(token) {
    const set = this.unknownWaits.get(token);
    if (set === undefined) return;
    for (const wake of set) wake();
  }

  /**
   * A message from a page. `source` is the posting client ({ id, type }).
   * Returns a promise to keep the service worker alive for (or null).
   */
  onMessage(data, source) {
    if (data === null || typeof data !== "object") return null;
    const type = data[SW_TAG];
    if (typeof type !== "string") return null;
    // Only pages announce sessions: a worker or anything else is ignored.
    if (!source || source.type !== "window") return null;
    const { token, channel } = data;
    if (typeof token !== "string" || !ID_RE.test(token)) return null;
    if (type === "bye") {
      this.dropSession(token, "the page closed this session");
      return null;
    }
    if (typeof channel !== "string" || !ID_RE.test(channel)) return null;
    const s = this.session(token, source.id);
    const c = this.channel(s, channel);
    let keep = null;
    switch (type) {
      case "announce":
        if (Number.isInteger(data.sent) && data.sent > c.top) c.top = data.sent;
        break;
      case "msg": {
        const n = data.n;
        if (!Number.isInteger(n) || !(data.bytes instanceof Uint8Array)) return null;
        const entry = { n, bytes: data.bytes, delivered: null };
        keep = new Promise((resolve) => {
          const t = setTimeout(resolve, this.keepAliveMs);
          entry.delivered = () => { clearTimeout(t); resolve(); };
        });
        c.queue.push(entry);
        if (n > c.top) c.top = n;
        this.wake(c);
        break;
      }
      case "close":
        this.closeChannel(c, typeof data.reason === "string" && data.reason !== ""
          ? data.reason
          : "the page closed this worker's channel (BridgeWorker.terminate())");
        break;
      default:
        return null;
    }
    this.wakeUnknown(token);
    this.maybeSweep();
    return keep;
  }

  dropSession(token, reason) {
    const s = this.sessions.get(token);
    if (s === undefined) return;
    this.sessions.delete(token);
    for (const c of s.channels.values()) this.closeChannel(c, reason);
  }

  maybeSweep() {
    if (this.clientAlive === null) return;
    if (Date.now() - this.lastSweep < SWEEP_MS) return;
    this.sweepSoon();
  }

  /** Sweeps now unless a sweep is running (then that one's result stands). */
  sweepSoon() {
    if (this.clientAlive === null || this.sweeping !== null) return;
    this.lastSweep = Date.now();
    this.sweeping = this.sweep().finally(() => { this.sweeping = null; });
  }

  /** Drops the sessions of pages that no longer exist. */
  async sweep() {
    if (this.clientAlive === null) return;
    const checks = [];
    for (const [token, s] of this.sessions) {
      checks.push(this.clientAlive(s.clientId).then((alive) => {
        if (!alive && this.sessions.get(token) === s) this.dropSession(token, "the page that owned this session is gone");
      }, () => {}));
    }
    await Promise.all(checks);
  }

  wake(c) {
    const w = c.waiter;
    if (w === null) return;
    c.waiter = null;
    clearTimeout(w.timer);
    w.resolve(this.reply(c, w.after, 0));
  }

  // The answer to a wait that acknowledged messages up to `after`, or null
  // when it should park.
  reply(c, after, waitMs) {
    const q = c.queue;
    let drop = 0;
    while (drop < q.length && q[drop].n <= after) {
      q[drop].delivered?.();
      drop++;
    }
    if (drop !== 0) q.splice(0, drop);
    if (q.length !== 0) {
      const parts = [];
      for (const e of q) parts.push(u32pair(e.n, e.bytes.byteLength), e.bytes);
      // Kept until acknowledged by the next wait (`after`), so an answer that
      // never arrived is sent again.
      return answer(200, new Blob(parts));
    }
    if (c.closed !== null) return answer(410, `worker-bridge: ${c.closed}`);
    if (c.top > after) {
      return answer(410, `worker-bridge: ${c.top - after} message(s) from the main thread were lost: the service worker ` +
        "was stopped or replaced while it held them (updated, unregistered, or stopped from the browser's tools). " +
        "Reload the page to start a new session.");
    }
    if (waitMs <= 0) return answer(204, null);
    return null;
  }

  /** The Response (promise) for a wait request, or null if `request` is not ours. */
  handleFetch(request, origin) {
    const url = new URL(request.url);
    if (url.origin !== origin || !url.pathname.endsWith("/" + WAIT_PATH)) return null;
    // Never answer a navigation: a page opened at this URL gets the network.
    if (request.mode === "navigate") return null;
    // A wait is a GET (docs/service-worker.md); anything else is not ours.
    if (request.method !== "GET") return null;
    const q = url.searchParams;
    const token = q.get("token");
    const channel = q.get("channel");
    const after = Number(q.get("after"));
    const waitMs = Math.min(Number(q.get("wait")), this.parkMs);
    if (!ID_RE.test(token ?? "") || !ID_RE.test(channel ?? "") || !Number.isInteger(after) || after < 0 || !(waitMs >= 0)) {
      return Promise.resolve(answer(400, "worker-bridge: malformed wait request (token, channel, after, wait)"));
    }
    return this.wait(token, channel, after, waitMs, true);
  }

  async wait(token, channel, after, waitMs, holdUnknown) {
    const s = this.sessions.get(token);
    const c = s === undefined ? undefined : s.channels.get(channel);
    if (c === undefined) {
      if (!holdUnknown || this.unknownHoldMs <= 0) {
        return answer(409, "worker-bridge: this service worker does not know the session token (no live page announced it; " +
          "the service worker may have been restarted or updated, or the page is gone)");
      }
      if (this.unknownWaitCount >= this.maxUnknownWaits) {
        return answer(409, `worker-bridge: this service worker does not know the session token, and ${this.maxUnknownWaits} ` +
          "waits for unannounced sessions are held already (reload the page)");
      }
      // Just restarted or updated: the page re-announces when the worker asks.
      // Held at most unknownHoldMs; the entry goes when the hold ends, however.
      await new Promise((resolve) => {
        let set = this.unknownWaits.get(token);
        if (set === undefined) this.unknownWaits.set(token, (set = new Set()));
        this.unknownWaitCount++;
        const done = () => {
          clearTimeout(t);
          if (set.delete(done)) this.unknownWaitCount--;
          if (set.size === 0 && this.unknownWaits.get(token) === set) this.unknownWaits.delete(token);
          resolve();
        };
        const t = setTimeout(done, this.unknownHoldMs);
        set.add(done);
      });
      return this.wait(token, channel, after, waitMs, false);
    }
    const now = this.reply(c, after, waitMs);
    if (now !== null) return now;
    if (c.waiter !== null) {
      // A newer wait on the same channel supersedes an older one.
      const old = c.waiter;
      c.waiter = null;
      clearTimeout(old.timer);
      old.resolve(answer(204, null));
    }
    return new Promise((resolve) => {
      const w = { resolve, after, timer: 0 };
      w.timer = setTimeout(() => {
        if (c.waiter === w) c.waiter = null;
        resolve(answer(204, null));
        this.maybeSweep();
      }, waitMs);
      c.waiter = w;
    });
  }
}

/**
 * Installs the worker-bridge listeners on a service worker global scope.
 * Options: `skipWaiting` and `claim` (default true: a new install takes over
 * at once, so the page that registered it is controlled without a reload).
 * Returns the state object.
 */
export function installBridgeServiceWorker(scope = globalThis, { skipWaiting = true, claim = true, parkMs = PARK_MS } = {}) {
  const state = new BridgeServiceWorkerState({
    parkMs,
    clientAlive: (id) => scope.clients.get(id).then((c) => c !== undefined && c !== null),
  });
  if (skipWaiting) scope.addEventListener("install", (e) => e.waitUntil(scope.skipWaiting()));
  if (claim) scope.addEventListener("activate", (e) => e.waitUntil(scope.clients.claim()));
  scope.addEventListener("message", (e) => {
    const keep = state.onMessage(e.data, e.source);
    if (keep !== null) e.waitUntil(keep);
  });
  scope.addEventListener("fetch", (e) => {
    const r = state.handleFetch(e.request, scope.location.origin);
    if (r !== null) e.respondWith(r);
  });
  return state;
}

// Loaded as the service worker script itself (not imported by another one):
// install at once.
if (typeof ServiceWorkerGlobalScope === "function" && globalThis instanceof ServiceWorkerGlobalScope &&
    import.meta.url === globalThis.location.href) {
  installBridgeServiceWorker(globalThis);
}
