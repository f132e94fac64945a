// The ES Proxy standing for an object on the other side of a channel.
//
// One proxy per remote id (refs.js keeps the identity). The target is chosen
// by kind so `typeof` and `Array.isArray` answer as on the owning side:
//   0 function -> a bound function: callable and constructible, and unlike a
//                 plain `function(){}` it has no non-configurable `prototype`
//                 that would constrain the ownKeys/getOwnPropertyDescriptor
//                 invariants
//   1 object   -> {}
//   2 array    -> []
// The proxy state lives on the target under a private symbol (configurable,
// so it never constrains a trap's answer).
//
// Two handler flavours:
//   SYNC (worker side, atomics transport): every trap is a blocking request
//     into the main thread, answered by reference for get/apply/construct/...
//   ASYNC (main side, or a worker without blocking): `apply`/`construct`/`get`
//     return Promises; the other traps answer locally from the empty target.

import { proxyName, releasedError, PROXY_STATE } from "./refs.js";
import { WELL_KNOWN_SYMBOLS } from "./protocol.js";
import { MISS } from "./probe.js";
import { asError } from "./errors.js";

export const STATE = Symbol("worker-bridge.state");

// Every symbol key crosses (docs/protocol.md §2 "Symbols"): well-known and
// registered ones by name, unique ones as references. Symbol.dispose is
// answered here (it releases the proxy).
const WELL_KNOWN = new Set();
for (const n of WELL_KNOWN_SYMBOLS) {
  if (typeof Symbol[n] === "symbol") WELL_KNOWN.add(Symbol[n]);
}
const DISPOSE = Symbol.dispose;
const TO_PRIMITIVE = Symbol.toPrimitive;

// Named so that printing a function proxy shows "[Function: bound remote]".
function remote() {}

export function makeTarget(kind) {
  if (kind === 0) return remote.bind(null);
  if (kind === 2) return [];
  return {};
}

export function makeProxy(kind, state, sync) {
  const target = makeTarget(kind);
  Object.defineProperty(target, STATE, { value: state, configurable: true });
  return new Proxy(target, sync ? SYNC : ASYNC);
}

function disposer(st) {
  if (st.dispose === null) st.dispose = () => { st.tables.releaseState(st); };
  return st.dispose;
}

// Reused op objects: a trap encodes its request before anything else can run
// on this thread, so one object per op is enough (no allocation per trap).
const OP_GET = { t: "get", key: "" };
const OP_SET = { t: "set", key: "", value: undefined };
const OP_HAS = { t: "has", key: "" };
const OP_DELETE = { t: "delete", key: "" };
const OP_OWN_KEYS = { t: "own_keys" };
const OP_GOPD = { t: "get_own_property_descriptor", key: "" };
const OP_DEFINE = { t: "define_property", key: "", descriptor: undefined };
const OP_GET_PROTO = { t: "get_prototype_of" };
const OP_SET_PROTO = { t: "set_prototype_of", proto: null };
const OP_APPLY = { t: "apply", this: undefined, args: null };
const OP_CONSTRUCT = { t: "construct", args: null };
const OP_DESCRIBE = { t: "describe" };
const TO_STRING_TAG = Symbol.toStringTag;

// Probes (probe.js): answered from the snapshot of the last Describe when it
// holds the answer; `describe` true asks for a snapshot of this proxy first
// when there is none (getPrototypeOf, getOwnPropertyDescriptor and
// Symbol.toStringTag: what instanceof, Object.hasOwn and
// Object.prototype.toString ask).
function probed(st, describe, ask, key) {
  const pc = st.tables.ep.probe;
  let r = pc.live ? ask(pc, st, key) : MISS;
  if (r === MISS && describe && pc.entry(st) === undefined && !st.released) {
    pc.fill(st, st.tables.ep.reflect(st, OP_DESCRIBE, undefined, "describe"));
    r = ask(pc, st, key);
  }
  return r;
}
const askGet = (pc, st, key) => pc.get(st, key);
const askHas = (pc, st, key) => pc.has(st, key);
const askDescriptor = (pc, st, key) => pc.descriptor(st, key);
const askProto = (pc, st) => pc.proto(st);
const askOwnKeys = (pc, st) => pc.ownKeys(st);

// Descriptor as the wire carries it -> one that obeys the Proxy invariants:
// configurable unless the target itself holds a non-configurable property
// (arrays' `length`), in which case that is reported the way the target has it.
function toDescriptor(target, key, d, st) {
  const own = Reflect.getOwnPropertyDescriptor(target, key);
  if (d === undefined) return own !== undefined && !own.configurable ? own : undefined;
  const out = { configurable: true, enumerable: d.enumerable === true };
  if (d.get !== undefined || d.set !== undefined) {
    out.get = d.get;
    out.set = d.set;
  } else {
    out.writable = d.writable === true;
    // Object values come by reference through a Get (the descriptor itself
    // travels by value, which would copy a plain object).
    if (d.refValue === true) {
      OP_GET.key = key;
      out.value = st.tables.ep.reflect(st, OP_GET, key, key);
    } else {
      out.value = d.value;
    }
  }
  if (own !== undefined && !own.configurable) {
    out.configurable = false;
    if (own.writable === true) out.writable = true;
  }
  return out;
}

// Freezing or sealing would make the local placeholder non-extensible, and
// the protocol has no op to do it on the owner: refuse clearly.
function preventExtensions(target) {
  const st = target[STATE];
  throw new TypeError(`worker-bridge: cannot freeze, seal or preventExtensions ${proxyName(st)} through its proxy; ` +
    "do it on the thread that owns the object (e.g. in a function exposed with sync)");
}

// `then` of a main-thread Promise read through its proxy (remoteThen): the
// rejection handler the worker passes gets the reason as an Error (asError),
// since interpreters raise only Errors in Python, and a DOMException (no
// stack), a string or a plain object would otherwise hang or fail the await.
// One wrapper per remote `then` function, kept while that function's proxy
// lives: the wrapper takes its promise from `this`, so `p.then === p.then`,
// and two promises share Promise.prototype.then's, as in JS.
const THEN_WRAPPERS = new WeakMap();
function rejectingWithErrors(then) {
  let wrapper = THEN_WRAPPERS.get(then);
  if (wrapper === undefined) {
    wrapper = function (onFulfilled, onRejected) {
      const onR = typeof onRejected === "function" ? (reason) => onRejected(asError(reason)) : onRejected;
      return Reflect.apply(then, this, [onFulfilled, onR]);
    };
    THEN_WRAPPERS.set(then, wrapper);
  }
  return wrapper;
}

const SYNC = {
  preventExtensions,
  get(target, key, receiver) {
    const st = target[STATE];
    if (key === DISPOSE) {
      return disposer(st);
    } else if (key === "then" && !st.tables.ep.remoteThen) {
      // Not thenable, so `await proxy` gives the proxy instead of hanging
      // (bridge({ remoteThen: true }): read it, so a main-thread Promise
      // can be awaited through its proxy).
      return undefined;
    } else if ((key === "call" || key === "apply") && typeof target === "function" && st.tables.ep.remoteThen) {
      // Interpreters call methods as `f.call(this, ...)` (MicroPython does):
      // answered here, one apply instead of a get and an apply, as
      // reflected-ffi does for its function proxies.
      return key === "call"
        ? (thisArg, ...args) => Reflect.apply(receiver, thisArg, args)
        : (thisArg, args) => Reflect.apply(receiver, thisArg, args ?? []);
    }
    // The page's `document` (window.document is unforgeable: the same object
    // while the page lives): kept after the first read while its proxy lives,
    // so `window.document.x` is one round trip (docs/architecture.md).
    const doc = st.id === 0 && key === "document" && st.tables.ep.stableDocument;
    if (doc) {
      const c = st.tables.ep.doc?.deref();
      if (c !== undefined && !PROXY_STATE.get(c).released) return c;
    }
    let r = probed(st, key === TO_STRING_TAG, askGet, key);
    if (r === MISS) {
      OP_GET.key = key;
      r = st.tables.ep.reflect(st, OP_GET, key, key);
    }
    if (doc && PROXY_STATE.has(r)) st.tables.ep.doc = new WeakRef(r);
    return key === "then" && typeof r === "function" ? rejectingWithErrors(r) : r;
  },
  set(target, key, value) {
    const st = target[STATE];
    OP_SET.key = key;
    OP_SET.value = value;
    try {
      return st.tables.ep.reflect(st, OP_SET, undefined, key);
    } finally {
      OP_SET.value = undefined;
    }
  },
  has(target, key) {
    const st = target[STATE];
    const r = probed(st, false, askHas, key);
    if (r !== MISS) return r;
    OP_HAS.key = key;
    return st.tables.ep.reflect(st, OP_HAS, undefined, key);
  },
  deleteProperty(target, key) {
    const st = target[STATE];
    OP_DELETE.key = key;
    const ok = st.tables.ep.reflect(st, OP_DELETE, undefined, key);
    if (ok) {
      const own = Reflect.getOwnPropertyDescriptor(target, key);
      if (own !== undefined && !own.configurable) return false;
    }
    return ok;
  },
  ownKeys(target) {
    const st = target[STATE];
    let keys = probed(st, false, askOwnKeys, undefined);
    if (keys === MISS) keys = st.tables.ep.reflect(st, OP_OWN_KEYS, undefined, "ownKeys");
    // The target's non-configurable keys (an array's `length`) must be listed.
    for (const k of Reflect.ownKeys(target)) {
      if (k === STATE) continue;
      const d = Reflect.getOwnPropertyDescriptor(target, k);
      if (!d.configurable && !keys.includes(k)) keys.push(k);
    }
    return keys;
  },
  getOwnPropertyDescriptor(target, key) {
    const st = target[STATE];
    if (key === STATE) return undefined;
    let d = probed(st, true, askDescriptor, key);
    if (d === MISS) {
      OP_GOPD.key = key;
      d = st.tables.ep.reflect(st, OP_GOPD, undefined, key);
    }
    return toDescriptor(target, key, d, st);
  },
  defineProperty(target, key, desc) {
    const st = target[STATE];
    const wireDesc = {};
    for (const k of ["value", "writable", "get", "set", "enumerable", "configurable"]) {
      if (Object.hasOwn(desc, k)) wireDesc[k] = desc[k];
    }
    OP_DEFINE.key = key;
    OP_DEFINE.descriptor = wireDesc;
    let ok;
    try {
      ok = st.tables.ep.reflect(st, OP_DEFINE, undefined, key);
    } finally {
      OP_DEFINE.descriptor = undefined;
    }
    // A non-configurable property must exist on the target too (invariant).
    if (ok && desc.configurable === false) Reflect.defineProperty(target, key, desc);
    return ok;
  },
  getPrototypeOf(target) {
    const st = target[STATE];
    const r = probed(st, true, askProto, undefined);
    if (r !== MISS) return r;
    return st.tables.ep.reflect(st, OP_GET_PROTO, "[[Prototype]]", "getPrototypeOf");
  },
  setPrototypeOf(target, proto) {
    const st = target[STATE];
    OP_SET_PROTO.proto = proto;
    try {
      return st.tables.ep.reflect(st, OP_SET_PROTO, undefined, "setPrototypeOf");
    } finally {
      OP_SET_PROTO.proto = null;
    }
  },
  apply(target, thisArg, args) {
    const st = target[STATE];
    OP_APPLY.this = thisArg;
    OP_APPLY.args = args;
    try {
      return st.tables.ep.reflect(st, OP_APPLY, "()", "()");
    } finally {
      OP_APPLY.this = undefined;
      OP_APPLY.args = null;
    }
  },
  construct(target, args) {
    const st = target[STATE];
    OP_CONSTRUCT.args = args;
    try {
      return st.tables.ep.reflect(st, OP_CONSTRUCT, "()", "new");
    } finally {
      OP_CONSTRUCT.args = null;
    }
  },
};

function noop() {}

const EventClass = typeof Event === "function" ? Event : null;
// An Event on its way through dispatchEvent (eventPhase NONE once done).
function isDispatching(x) {
  return EventClass !== null && x instanceof EventClass && x.eventPhase !== 0;
}

// Main side: the owner is another thread that the main thread must not block
// on. Calls and reads give Promises; the rest answers from the local target
// (an empty object or function), so printing or inspecting never throws.
const ASYNC = {
  preventExtensions,
  get(target, key) {
    const st = target[STATE];
    if (typeof key === "symbol") {
      if (key === DISPOSE) return disposer(st);
      if (key === TO_PRIMITIVE) return () => `[worker-bridge proxy ${st.tables.ep.proxyLabel(st)}]`;
      // Well-known symbols are the runtime's probes (iteration, printing):
      // answered here. Registered and unique ones are reads like any other.
      if (WELL_KNOWN.has(key)) return undefined;
    }
    // Not thenable; and JSON.stringify's probe finds no toJSON method.
    if (key === "then" || key === "toJSON") return undefined;
    const p = st.tables.ep.reflectAsync(st, { t: "get", key });
    // Reads are often speculative: a read nobody awaits must not become an
    // unhandled rejection (e.g. when the worker is terminated). Awaiting
    // `p` still sees the rejection.
    p.catch(noop);
    return p;
  },
  set(target, key, value) {
    const st = target[STATE];
    // Nothing would await this: say it here rather than on the console.
    if (st.released) throw releasedError(st);
    // Fire and forget: a set cannot wait; a failure is reported, not lost.
    st.tables.ep.reflectAsync(st, { t: "set", key, value }).then(null, (e) => {
      st.tables.ep.report(e);
    });
    return true;
  },
  apply(target, thisArg, args) {
    const st = target[STATE];
    const ep = st.tables.ep;
    const seq = ep.seq;
    const p = ep.reflectAsync(st, { t: "apply", this: thisArg, args });
    // After terminate(), timers and DOM listeners that still hold a worker
    // callback call it without awaiting: no unhandled rejection for each.
    // A caller that awaits still gets the ClosedError.
    if (ep.closed) p.catch(noop);
    // A worker event listener (the call went out): the event waits for it (bounded).
    else if (ep.seq !== seq && args.length !== 0 && isDispatching(args[0])) ep.awaitListener();
    return p;
  },
  construct(target, args) {
    const st = target[STATE];
    return st.tables.ep.reflectAsync(st, { t: "construct", args });
  },
};
