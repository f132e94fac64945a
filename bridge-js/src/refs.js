// Export and import tables (docs/protocol.md §5), one pair per channel.
//
// Export table: local object -> { id, count }. The same object keeps the same
// id while it is exported; every send adds 1 to the count; a Release from the
// peer subtracts what the peer had received, and the entry goes at 0.
//
// Import table: id -> { WeakRef(proxy), count }. One proxy per id, so identity
// holds on this side. A proxy is released by `release(p)`, `p[Symbol.dispose]()`
// or the FinalizationRegistry; the release carries the whole count received,
// so a Remote that was in flight meanwhile keeps the peer's entry alive.
//
// Unique symbols (docs/protocol.md §2 "Symbols") use the same tables: the
// exporter's symbol gets an id and a count like an object, the importer makes
// one local `Symbol(description)` per id (identity holds) and releases it the
// same ways (the FinalizationRegistry watches the symbol).
//
// Releases are queued here and taken by the endpoint, which piggybacks them
// on its next Request/Reply or sends them alone after a short idle delay.

import { SYMBOL_KIND, EMPTY } from "./wire.js";

// Symbols as WeakMap keys and WeakRef targets are ES2023; where a runtime
// lacks them, imported symbols are held strongly (never released).
const WEAK_SYMBOLS = (() => {
  try {
    new WeakRef(Symbol("probe"));
    return true;
  } catch {
    return false;
  }
})();

/** proxy (or imported unique symbol) -> its state; module-wide so any side can recognise any proxy. */
export const PROXY_STATE = WEAK_SYMBOLS ? new WeakMap() : new (class {
  // Objects in a WeakMap, symbols in a Map (held for good).
  constructor() { this.w = new WeakMap(); this.m = new Map(); }
  get(k) { return typeof k === "symbol" ? this.m.get(k) : this.w.get(k); }
  has(k) { return typeof k === "symbol" ? this.m.has(k) : this.w.has(k); }
  set(k, v) { if (typeof k === "symbol") this.m.set(k, v); else this.w.set(k, v); return this; }
})();

// A WeakRef, or for a symbol the runtime cannot hold weakly a strong
// stand-in (`strong` set: never finalized).
function weakRef(x) {
  return typeof x === "symbol" && !WEAK_SYMBOLS ? { deref: () => x, strong: x } : new WeakRef(x);
}


export class RefTables {
  /**
   * @param {object} o
   * @param {object} o.globalObj   what target/Local id 0 means on this side
   * @param {(kind:number, state:object)=>object} o.makeProxy
   * @param {() => void} o.onPending  called when the first release is queued
   * @param {() => object} o.rootProxy  the proxy of the peer's global object (id 0)
   */
  constructor({ globalObj, makeProxy, onPending, rootProxy }) {
    this.globalObj = globalObj;
    this.rootProxy = rootProxy;
    this.makeProxy = makeProxy;
    this.onPending = onPending;
    this.exportsByObj = new Map();
    this.exportsById = new Map();
    this.nextId = 1;
    this.imports = new Map();
    // Queued releases, [id, count], at most one per id (see _queue).
    this.pending = [];
    this._pendingById = new Map();
    // While the endpoint decodes a message it may queue, the import entries
    // the message delivered are noted here (see hold()); the depth is the
    // number of decodes running.
    this._journal = [];
    this.depth = 0;
    // What the messages being encoded and sent counted and took, oldest
    // first (see rollbackEncode): the export entry of each Remote, the batch
    // of releases each carries; msgStart is where the latest encoded
    // message's records start.
    this._sent = [];
    this.msgStart = 0;
    // Set by the endpoint around a decode so new proxies get readable names.
    this.hintParent = null;
    this.hintKey = undefined;
    // Reused hook results: the codec reads them at once (no allocation per ref).
    this._local = { local: 0 };
    this._remote = { kind: 0, id: 0 };
    // Codec hook (wire.js `refs.convert`): an object about to cross by
    // reference may be sent as another value, by value (convertOutgoing()).
    this.convert = null;
    this.registry = typeof FinalizationRegistry === "function"
      ? new FinalizationRegistry((entry) => this._finalized(entry))
      : null;
  }

  // ------------------------------------------------------------ codec hooks

  isProxy(obj) {
    return PROXY_STATE.has(obj);
  }

  exportValue(obj) {
    const st = PROXY_STATE.get(obj);
    if (st !== undefined && st.tables === this) {
      if (st.released) throw releasedError(st);
      this._local.local = st.id;
      return this._local;
    }
    const r = this._remote;
    if (obj === this.globalObj) {
      // Id 0 is the global object on both sides: never counted, never
      // released, and the peer maps it to its one `window` proxy.
      r.kind = typeof obj === "function" ? 0 : 1;
      r.id = 0;
      return r;
    }
    let e = this.exportsByObj.get(obj);
    if (e === undefined) {
      const id = this.nextId;
      this.nextId = id === 0xffffffff ? 1 : id + 1;
      e = { id, count: 0, obj };
      this.exportsByObj.set(obj, e);
      this.exportsById.set(id, e);
    }
    e.count++;
    this._sent.push(e);
    r.kind = typeof obj === "function" ? 0 : Array.isArray(obj) ? 2 : 1;
    r.id = e.id;
    return r;
  }

  importRemote(kind, id, description) {
    if (id === 0) return this.rootProxy();
    let e = this.imports.get(id);
    if (e !== undefined) {
      const p = e.ref.deref();
      if (p !== undefined) {
        e.count++;
        if (e.deferred) this._revive(e);
        if (this.depth !== 0) this._journal.push(e);
        return p;
      }
      // Collected but not yet finalized: a new proxy inherits the count and
      // the old entry's finalizer becomes a no-op (it is no longer current).
      if (this.registry !== null) this.registry.unregister(e);
    }
    const state = {
      id,
      kind,
      tables: this,
      released: false,
      parent: this.hintParent,
      key: this.hintKey,
      dispose: null,
    };
    const proxy = kind === SYMBOL_KIND ? Symbol(description) : this.makeProxy(kind, state);
    const entry = { id, count: (e === undefined ? 0 : e.count) + 1, ref: weakRef(proxy), state, holds: 0, deferred: false };
    this.imports.set(id, entry);
    if (this.depth !== 0) this._journal.push(entry);
    PROXY_STATE.set(proxy, state);
    if (this.registry !== null && entry.ref.strong === undefined) this.registry.register(proxy, entry, entry);
    return proxy;
  }

  importLocal(id) {
    if (id === 0) return this.globalObj;
    const e = this.exportsById.get(id);
    if (e === undefined) {
      throw new Error(`worker-bridge: the peer referred to object #${id}, which this side no longer exports ` +
        "(it was released). Keep a proxy alive while you still pass it back.");
    }
    return e.obj;
  }

  // ------------------------------------------------------------ export side

  /** The local object a request targets (0 = the global object). */
  target(id) {
    return this.importLocal(id);
  }

  applyReleases(list) {
    for (let i = 0; i < list.length; i++) {
      const id = list[i][0];
      const e = this.exportsById.get(id);
      if (e === undefined) continue;
      e.count -= list[i][1];
      if (e.count <= 0) this._dropExport(e);
    }
  }

  _dropExport(e) {
    if (this.exportsById.get(e.id) !== e) return;
    this.exportsById.delete(e.id);
    this.exportsByObj.delete(e.obj);
  }

  // Encodes nest: a getter the encoder runs may make a sync call, whose
  // message is encoded and sent (or not) inside the outer encode. Its
  // records go after the outer message's, and its sent() or rollback leaves
  // those alone: if the outer message then fails, all it counted and took
  // is taken back.

  /** Returns where the records of the message about to be encoded start; `nested`: inside another's encode. */
  beginEncode(nested) {
    const list = this._sent;
    if (!nested && list.length !== 0) list.length = 0;
    return list.length;
  }

  /** The latest encoded message went out: its counts and releases stand. */
  sent() {
    const list = this._sent;
    if (list.length > this.msgStart) list.length = this.msgStart;
  }

  /**
   * The message whose records start at `start` (default: the latest encoded
   * one) was not sent: take back what it counted, and queue again the
   * releases it carried (they would be lost otherwise, and the peer's
   * entries with them).
   */
  rollbackEncode(start = this.msgStart) {
    const list = this._sent;
    // (No releases queued after close: clear() dropped everything and nothing goes out.)
    const requeue = !this.ep?.closed;
    for (let i = start; i < list.length; i++) {
      const e = list[i];
      if (Array.isArray(e)) {
        if (requeue) for (const r of e) this._queue(r[0], r[1]);
      } else if (--e.count <= 0) this._dropExport(e);
    }
    if (list.length > start) list.length = start;
  }

  // ------------------------------------------------------------ queued requests
  //
  // A worker blocked in a call decodes a main->worker request that it may only
  // serve later (run-to-completion). Until then the request must keep alive
  // what it uses, though releases of later messages are applied at once:
  // - its target (an object this side exports): held by one extra count, so a
  //   release from the peer cannot drop the entry before the request ran;
  // - the proxies it delivered: release(p) / Symbol.dispose of such a proxy
  //   meanwhile makes it unusable at once, but its Release is deferred; when
  //   the request is served it delivers the proxy anew (usable again, as a
  //   message decoded only then would); if the request is dropped, the
  //   Release goes out.

  //
  // Decodes nest: code the decoder runs (a setter on Object.prototype when a
  // key is assigned) may make a sync call, whose messages are decoded inside
  // the outer decode. A nested decode journals after the outer one's entries
  // (beginDecode() returns where its own start), the journal stays on until
  // the outermost decode ends, and the blocking wait that read the nested
  // messages takes their entries out when it ends (cut()), so the outer
  // message's entries stay together.

  /** Returns where this decode's entries start in the journal (for hold()). */
  beginDecode() {
    const j = this._journal;
    if (this.depth++ === 0) j.length = 0;
    return j.length;
  }

  endDecode() {
    this.depth--;
  }

  /** Around a blocking wait: cut() is the journal's length, cut(n) takes it back to n. */
  cut(n = this._journal.length) {
    const j = this._journal;
    if (j.length > n) j.length = n;
    return n;
  }

  /**
   * Called for a message decoded since beginDecode() (which returned
   * `start`) that is delivered later: a request that goes into a queue, or
   * (`withTarget` false) the reply of an outer blocked call that came while
   * an inner one waits (the stash). The proxies it delivers are held; a
   * request's target too.
   */
  hold(msg, start, withTarget = true) {
    let imports = null;
    const j = this._journal;
    if (j.length > start) {
      imports = j.slice(start);
      for (let i = 0; i < imports.length; i++) imports[i].holds++;
    }
    let target = null;
    if (withTarget && msg.target !== 0) {
      target = this.exportsById.get(msg.target);
      if (target === undefined) target = null;
      else target.count++;
    }
    msg.held = { imports, target };
  }

  /** The held proxies of a queued request or kept reply: `delivered` when it is delivered now. */
  unholdImports(msg, delivered) {
    const h = msg.held;
    if (h === undefined || h.imports === null) return;
    const list = h.imports;
    h.imports = null;
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      e.holds--;
      if (!e.deferred) continue;
      if (delivered) {
        // Delivered anew, as if decoded now: usable again.
        this._revive(e);
      } else if (e.holds === 0) {
        e.deferred = false;
        if (this.imports.get(e.id) === e) {
          this.imports.delete(e.id);
          if (this.registry !== null) this.registry.unregister(e);
          this._queue(e.id, e.count);
        }
      }
    }
  }

  _revive(e) {
    e.deferred = false;
    e.state.released = false;
  }

  /** The held target of a queued request, once it was served (or dropped). */
  unholdTarget(msg) {
    const h = msg.held;
    if (h === undefined || h.target === null) return;
    const e = h.target;
    h.target = null;
    if (--e.count <= 0) this._dropExport(e);
  }

  // ------------------------------------------------------------ import side

  /** Releases a proxy now; false if it was released already. */
  release(proxy) {
    const st = PROXY_STATE.get(proxy);
    if (st === undefined || st.tables !== this) {
      throw new TypeError("release() expects a proxy that came from this bridge (a main-thread object in a worker, or a worker object on the main thread)");
    }
    return this.releaseState(st);
  }

  releaseState(st) {
    if (st.id === 0 || st.released) return false;
    st.released = true;
    const e = this.imports.get(st.id);
    if (e !== undefined && e.state === st && e.holds !== 0) {
      // A queued request still delivers this proxy (see hold()): unusable
      // now, released for real only if that request never runs.
      e.deferred = true;
      return true;
    }
    if (e !== undefined && e.state === st) {
      this.imports.delete(st.id);
      if (this.registry !== null) this.registry.unregister(e);
      this._queue(st.id, e.count);
    }
    return true;
  }

  _finalized(entry) {
    if (this.imports.get(entry.id) !== entry) return;
    this.imports.delete(entry.id);
    this._queue(entry.id, entry.count);
  }

  // Several releases of one id in a batch (released, received anew, released
  // again before anything was sent) merge into one entry with the summed
  // count: the exporter subtracts the same total either way, and no send of
  // the exporter can come between two entries of one batch.
  _queue(id, count) {
    const queued = this._pendingById.get(id);
    if (queued !== undefined) {
      queued[1] += count;
      return;
    }
    const first = this.pending.length === 0;
    const r = [id, count];
    this.pending.push(r);
    this._pendingById.set(id, r);
    if (first && this.onPending) this.onPending();
  }

  /**
   * Pending releases to piggyback on the message being encoded (a shared
   * empty array when none). If that message is then not sent,
   * rollbackEncode() queues them again.
   */
  takeReleases() {
    if (this.pending.length === 0) return EMPTY;
    const out = this.pending;
    this.pending = [];
    this._pendingById.clear();
    this._sent.push(out);
    return out;
  }

  hasPending() {
    return this.pending.length !== 0;
  }

  /** Forget everything (channel closed): no releases go out any more. */
  clear() {
    for (const e of this.imports.values()) {
      e.state.released = true;
      if (this.registry !== null) this.registry.unregister(e);
    }
    this.imports.clear();
    this._sent.length = 0;
    this._journal.length = 0;
    this.exportsById.clear();
    this.exportsByObj.clear();
    this.pending = [];
    this._pendingById.clear();
  }

  stats() {
    let exportCount = 0;
    for (const e of this.exportsById.values()) exportCount += e.count;
    let importCount = 0;
    for (const e of this.imports.values()) importCount += e.count;
    return {
      exports: this.exportsById.size,
      imports: this.imports.size,
      exportCount,
      importCount,
      pendingReleases: this.pending.length,
    };
  }
}

/**
 * Releases any proxy of this package (either side) now; false if it was
 * released already. The same as `proxy[Symbol.dispose]()`.
 */
export function release(proxy) {
  const st = PROXY_STATE.get(proxy);
  if (st === undefined) {
    throw new TypeError("release() expects a proxy that came from worker-bridge (a main-thread object in a worker, or a worker object on the main thread)");
  }
  return st.tables.releaseState(st);
}

/** A readable name for a proxy, from the path it was first reached by. */
export function proxyName(st) {
  let out = "";
  let s = st;
  for (let depth = 0; s != null; depth++, s = s.parent) {
    const k = s.key;
    if (k === undefined || depth > 16) {
      return (s.rootName || (s.id === 0 ? "window" : `<object #${s.id}>`)) + out;
    }
    if (s.parent == null) return String(typeof k === "symbol" ? k.description : k) + out;
    out = (typeof k === "symbol" ? `[${k.description}]` : k === "()" ? "()" : `.${k}`) + out;
  }
  return out;
}

export function releasedError(st) {
  return new Error(`worker-bridge: ${proxyName(st)} was released (release() or Symbol.dispose) and can no longer be used; ` +
    "read it again from its owner to get a fresh proxy.");
}
