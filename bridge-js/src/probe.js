// Shape probes in one round trip (docs/protocol.md §3 "Describe").
//
// Runtimes that wrap every JS object they receive (Pyodide's typeflags) ask
// it a few dozen questions: `instanceof` walks (getPrototypeOf per link),
// `Object.hasOwn` walks (getOwnPropertyDescriptor and getPrototypeOf per
// link), `typeof obj[k] === "function"` for a dozen keys that are absent,
// `Object.prototype.toString` (Symbol.toStringTag) and `obj.constructor.name`.
// On a worker proxy each was a blocking round trip. The first
// getPrototypeOf, getOwnPropertyDescriptor or Symbol.toStringTag read of a
// proxy now sends one Describe request instead; main answers with the
// object's prototype chain (as references), the own keys of every link, a few
// values (Symbol.toStringTag, constructor, constructor.name) and the own data
// properties that hold primitives. The worker answers the probes from that
// snapshot while it is valid (the rule is in docs/protocol.md).

import { PROXY_STATE } from "./refs.js";
import { STATE } from "./proxy.js";

/** The answer was not in the snapshot: ask main. */
export const MISS = Symbol("probe miss");

// Main side: bounds on what one Describe reply carries.
const CHAIN_MAX = 64; // prototype links
const KEYS_MAX = 512; // own keys of one link; more and the link's keys are not sent
// Worker side: local answers one snapshot gives before it is dropped, so that
// a loop polling a property that main sets meanwhile reaches main again.
const ANSWERS_MAX = 256;
// Folding (docs/protocol.md §3 "Describe", "Folded into the reply"): on from
// the first Describe this side had to send, off again after this many folded
// snapshots in a row that answered nothing (a runtime that does not probe
// every object it gets).
const FOLD_UNUSED_MAX = 16;

const TAG = Symbol.toStringTag;
const W = 1, E = 2, C = 4; // writable, enumerable, configurable

function ownKeysOrNull(o) {
  try {
    const keys = Reflect.ownKeys(o);
    if (keys.length > KEYS_MAX) return null;
    const i = keys.indexOf(STATE);
    if (i !== -1) keys.splice(i, 1);
    return keys;
  } catch {
    return null;
  }
}

const isPrimitive = (v) => v === null || (typeof v !== "object" && typeof v !== "function");

/**
 * Main side: the reply value of Describe for `obj`:
 * `[[constructor, P1, ..., Pn], info, keys(obj), keys(P1), ..., keys(Pn), prims]`
 * where the first Array goes by reference (wire.js describeReply), `info` is
 * `{ tag?, ctorName? }`, each `keys` the link's own keys or null, and `prims`
 * `[key, value, flags, ...]` for the own data properties of `obj` that hold
 * primitives (flags: 1 writable, 2 enumerable, 4 configurable).
 */
export function describeObject(obj) {
  const info = {};
  let ctor;
  try {
    const tag = Reflect.get(obj, TAG);
    if (isPrimitive(tag)) info.tag = tag;
  } catch {
    // not cached: the worker asks again and gets the error then
  }
  try {
    ctor = Reflect.get(obj, "constructor");
    info.ctor = true;
    if (typeof ctor === "function") {
      const name = Reflect.get(ctor, "name");
      if (typeof name === "string") info.ctorName = name;
    }
  } catch {
    ctor = undefined;
    delete info.ctor;
  }
  const refs = [ctor];
  const out = [refs, info, ownKeysOrNull(obj)];
  let p = Reflect.getPrototypeOf(obj);
  while (p !== null && refs.length <= CHAIN_MAX) {
    refs.push(p);
    out.push(ownKeysOrNull(p));
    p = Reflect.getPrototypeOf(p);
  }
  if (p !== null) info.cut = true; // chain longer than CHAIN_MAX: its end is unknown
  const prims = [];
  const own = out[2];
  if (own !== null) {
    for (const k of own) {
      const d = Reflect.getOwnPropertyDescriptor(obj, k);
      if (d === undefined || !("value" in d) || !isPrimitive(d.value)) continue;
      prims.push(k, d.value, (d.writable ? W : 0) | (d.enumerable ? E : 0) | (d.configurable ? C : 0));
    }
  }
  out.push(prims);
  return out;
}

/**
 * Main side: the prototype chain of `obj`, `[P1, ..., Pn, null]`, without the
 * null when longer than CHAIN_MAX links (its end unknown).
 */
export function prototypeChain(obj) {
  const out = [];
  let p = Reflect.getPrototypeOf(obj);
  while (p !== null && out.length < CHAIN_MAX) {
    out.push(p);
    p = Reflect.getPrototypeOf(p);
  }
  if (p === null) out.push(null);
  return out;
}

/** Worker side: the snapshot of the last Describe, per proxy state. */
export class ProbeCache {
  constructor() {
    this.entries = new Map(); // proxy state -> { proto, keys, gets, descs }
    this.answers = 0;
    // Fold the snapshot of each object result into its reply (endpoint.reflect).
    this.foldOn = false;
    this.folded = false; // the live snapshot came folded into a reply
    this.used = false; // ... and answered something
    this.unused = 0; // folded snapshots in a row that answered nothing
    this.scheduled = false;
    this.dropNow = () => {
      this.scheduled = false;
      this.drop();
    };
  }

  get live() {
    return this.entries.size !== 0;
  }

  drop() {
    if (this.entries.size !== 0) this.entries.clear();
    if (this.folded) {
      this.folded = false;
      if (this.used) this.unused = 0;
      else if (++this.unused >= FOLD_UNUSED_MAX) this.foldOn = false;
    }
  }

  /**
   * Fills the snapshot from a Describe reply for the proxy with state `st`
   * (`folded`: it came in the reply that delivered that proxy; otherwise it
   * answers a Describe request, and later object results come folded).
   */
  fill(st, v, folded = false) {
    this.drop();
    if (!folded && !this.foldOn) {
      this.foldOn = true;
      this.unused = 0;
    }
    this.folded = folded;
    this.used = false;
    this.answers = ANSWERS_MAX;
    const refs = v[0];
    const info = v[1];
    const links = refs.length - 1; // P1..Pn
    const top = { proto: links > 0 ? refs[1] : info.cut ? undefined : null, keys: toSet(v[2]), gets: new Map(), descs: new Map() };
    if (Object.hasOwn(info, "tag")) top.gets.set(TAG, info.tag);
    if (info.ctor === true) top.gets.set("constructor", refs[0]);
    const prims = v[v.length - 1];
    for (let i = 0; i < prims.length; i += 3) {
      const f = prims[i + 2];
      top.descs.set(prims[i], { value: prims[i + 1], writable: (f & W) !== 0, enumerable: (f & E) !== 0, configurable: (f & C) !== 0 });
    }
    this.entries.set(st, top);
    for (let i = 1; i <= links; i++) {
      const ps = PROXY_STATE.get(refs[i]);
      if (ps === undefined) continue;
      const next = i < links ? refs[i + 1] : info.cut ? undefined : null;
      this.entries.set(ps, { proto: next, keys: toSet(v[2 + i]), gets: null, descs: null });
    }
    if (typeof info.ctorName === "string" && typeof refs[0] === "function") {
      const cs = PROXY_STATE.get(refs[0]);
      if (cs !== undefined && !this.entries.has(cs)) {
        this.entries.set(cs, { proto: undefined, keys: null, gets: new Map([["name", info.ctorName]]), descs: null });
      }
    }
    if (!this.scheduled) {
      // Valid for the rest of this task at most (docs/protocol.md).
      this.scheduled = true;
      queueMicrotask(this.dropNow);
    }
  }

  /**
   * Adds to the live snapshot the prototype links of the proxy with state
   * `st` from `chain` (`[P1, ..., Pn, null]`, or without the null when cut),
   * taken with it: getPrototypeOf answers, nothing else (keys unknown).
   * Objects the snapshot holds already keep their richer entries.
   */
  addChain(st, chain) {
    let s = st;
    for (let i = 0; s !== undefined && i < chain.length; i++) {
      const p = chain[i];
      if (!this.entries.has(s)) this.entries.set(s, { proto: p, keys: null, gets: null, descs: null });
      if (p === null) break;
      s = PROXY_STATE.get(p);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.dropNow);
    }
  }

  entry(st) {
    if (st.released) return undefined;
    return this.entries.get(st);
  }

  hit(v) {
    this.used = true;
    if (--this.answers <= 0) this.drop();
    return v;
  }

  /** `[[GetPrototypeOf]]`, or MISS. */
  proto(st) {
    const e = this.entry(st);
    if (e === undefined || e.proto === undefined) return MISS;
    return this.hit(e.proto);
  }

  /**
   * Where `key` is in the snapshot's chain from `st`: 1 found, 0 absent from
   * every link, -1 unknown (a link's keys were not sent, or the chain is cut).
   */
  where(st, key) {
    let e = this.entry(st);
    for (let n = 0; n <= CHAIN_MAX + 1; n++) {
      if (e === undefined || e.keys === null) return -1;
      if (e.keys.has(key)) return 1;
      if (e.proto === null) return 0;
      if (e.proto === undefined) return -1;
      const ps = PROXY_STATE.get(e.proto);
      if (ps === undefined) return -1;
      e = this.entries.get(ps);
    }
    return -1;
  }

  /** `[[Get]]` from the snapshot, or MISS. */
  get(st, key) {
    const e = this.entry(st);
    if (e === undefined) return MISS;
    if (e.gets !== null && e.gets.has(key)) return this.hit(e.gets.get(key));
    if (e.descs !== null) {
      const d = e.descs.get(key);
      if (d !== undefined) return this.hit(d.value);
    }
    return this.where(st, key) === 0 ? this.hit(undefined) : MISS;
  }

  /** `[[HasProperty]]`, or MISS. */
  has(st, key) {
    const w = this.where(st, key);
    return w === -1 ? MISS : this.hit(w === 1);
  }

  /** The wire descriptor of an own property (undefined: none), or MISS. */
  descriptor(st, key) {
    const e = this.entry(st);
    if (e === undefined || e.keys === null) return MISS;
    if (!e.keys.has(key)) return this.hit(undefined);
    const d = e.descs === null ? undefined : e.descs.get(key);
    return d === undefined ? MISS : this.hit(d);
  }

  /** `[[OwnPropertyKeys]]` (a fresh array), or MISS. */
  ownKeys(st) {
    const e = this.entry(st);
    if (e === undefined || e.keys === null) return MISS;
    return this.hit([...e.keys]);
  }
}

function toSet(keys) {
  return keys === null ? null : new Set(keys);
}
