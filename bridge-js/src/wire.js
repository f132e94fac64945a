// The wire codec of docs/protocol.md §1-§3: messages and values <-> postcard bytes.
//
// Hot path. One encoder buffer per thread is reused and grown by doubling;
// `encodeMessage` / `encodeValue` return a fresh copy of the bytes (safe to keep
// or queue), `encodeMessageView` returns a view into the reused buffer that is
// valid only until the next encode on this thread (for callers that copy at
// once, like Mailbox.send).
//
// `refs` is the hook object for what cannot be copied (docs/architecture.md):
//   refs.exportValue(obj)       -> { local: id } | { kind, id }
//       (also asked for a unique symbol: its id; the kind is not used)
//   refs.importRemote(kind, id, description) -> proxy; kind SYMBOL_KIND:
//       the unique symbol standing for the sender's (description: its own)
//   refs.importLocal(id)        -> our own exported object (or symbol)
//   refs.isProxy(obj)           -> optional: true for a proxy of the peer's
//       object. Asked before an object is inspected in by-value mode, so that a
//       proxy is sent home as Local instead of being copied through its traps
//       (Array.isArray and getPrototypeOf on a proxy would otherwise see, or
//       call into, the remote side).
//   refs.convert(obj)           -> optional (null when unused): asked before a
//       non-function object is sent by reference; a different value returned
//       is sent instead, by value (worker-bridge/python sends Python lists and
//       dicts as arrays and objects this way).

import { takeMarks, restoreMarks, isDetached, marksActive } from "./transfer.js";
import {
  TAG_REQUEST, TAG_REPLY, TAG_RELEASE, TAG_CANCEL, OP, OUTCOME_OK, OUTCOME_THROWN,
  WELL_KNOWN_SYMBOLS as SYMBOL_NAMES,
} from "./protocol.js";

export class WireError extends Error {
  constructor(message) {
    super(message);
    this.name = "WireError";
  }
}

export const MAX_DEPTH = 512;

// Value tags (docs/protocol.md §2).
const T_UNDEFINED = 0, T_NULL = 1, T_BOOL = 2, T_INT = 3, T_FLOAT = 4,
  T_BIGINT = 5, T_STRING = 6, T_ARRAYBUFFER = 7, T_TYPEDARRAY = 8, T_DATE = 9,
  T_REGEXP = 10, T_ERROR = 11, T_ARRAY = 12, T_OBJECT = 13, T_MAP = 14,
  T_SET = 15, T_BACKREF = 16, T_REMOTE = 17, T_LOCAL = 18, T_HOLE = 19,
  T_TRANSFERRED = 20, T_SPARSE = 21, T_SYMBOL = 22;

// An array with this many holes in a row is written as a SparseArray (its
// present elements with their indices), any other as an Array
// (docs/protocol.md §2 "Sparse arrays"; HOLE_RUN in wire.rs).
const HOLE_RUN = 16;
const MAX_ARRAY_LENGTH = 4294967295;

/** The kind refs.importRemote is asked for when a unique symbol arrives. */
export const SYMBOL_KIND = 3;

/** The one empty release list: decoded messages and refs.js share it (frozen). */
export const EMPTY = Object.freeze([]);

// Op names by code and codes by name, from protocol.js's one table.
const OPS = [];
for (const [name, code] of Object.entries(OP)) OPS[code] = name;
const OP_INDEX = new Map(Object.entries(OP));

const SYMBOLS = SYMBOL_NAMES.map((n) => Symbol[n]);
const SYMBOL_INDEX = new Map();
SYMBOLS.forEach((s, i) => { if (typeof s === "symbol") SYMBOL_INDEX.set(s, i); });

const TYPED_NAMES = ["Int8Array", "Uint8Array", "Uint8ClampedArray",
  "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float32Array",
  "Float64Array", "BigInt64Array", "BigUint64Array", "DataView",
  "Float16Array"];
const TYPED_CTORS = TYPED_NAMES.map((n) => globalThis[n]);
const TYPED_SIZES = [1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8, 1, 2];
// Keyed by Symbol.toStringTag, which typed arrays and DataView answer with
// their constructor's name without running user code.
const TYPED_KIND = new Map(TYPED_NAMES.map((n, i) => [n, i]));

const ERROR_CTORS = {
  Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError,
  URIError,
};
if (typeof AggregateError === "function") ERROR_CTORS.AggregateError = AggregateError;

const ObjectProto = Object.prototype;
const ArrayProto = Array.prototype;
const getProto = Object.getPrototypeOf;
const ownNames = Object.getOwnPropertyNames;
const objectKeys = Object.keys;
const isArray = Array.isArray;
const isView = ArrayBuffer.isView;
const hasWellFormed = typeof "".isWellFormed === "function";

const utf8Encoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF is data, not a byte-order mark to strip.
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function isWellFormed(s) {
  if (hasWellFormed) return s.isWellFormed();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      if (c >= 0xdc00) return false;
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    }
  }
  return true;
}

function varintSize(v) {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

// Short strings are tried as ASCII by hand. Measured on Node 20 (1000 strings
// of 6 chars): the hand loop 20 us vs encodeInto 98 us to encode, 49 us vs
// TextDecoder 112 us to decode; at 48 chars encodeInto starts to win.
const ASCII_ENCODE_MAX = 32; // must stay < 128: one-byte length prefix
const ASCII_DECODE_MAX = 32;
// A buffer grown past this for one huge message is dropped afterwards rather
// than kept for the life of the thread.
const KEEP_BUFFER_MAX = 4 << 20;
const INITIAL_BUFFER = 4096;
const MAX_ENCODED = 0x7fffffff;

// ---------------------------------------------------------------- encoding

class Encoder {
  constructor() {
    this.buf = new Uint8Array(INITIAL_BUFFER);
    this.dv = new DataView(this.buf.buffer);
    this.pos = 0;
    this.seen = new Map();
    this.refs = null;
    this.byRef = false;
    this.depth = 0;
    this.busy = false;
    // The encoded size that must not be passed (maxMessage): checked as the
    // buffer grows, and before work that would pass it anyway.
    this.limit = MAX_ENCODED;
    // Transfers (transfer.js): `xo` is the caller's record
    // { move, buffers: [ArrayBuffer], marked: [value, list, ...] } or null
    // (marks are then left alone); `xfer` maps each buffer to its index.
    this.xo = null;
    this.xfer = null;
  }

  begin(refs, xo = null, limit = MAX_ENCODED) {
    this.pos = 0;
    this.limit = limit;
    this.refs = refs;
    this.depth = 0;
    this.busy = true;
    this.xo = xo;
    if (xo !== null && xo.buffers.length !== 0) {
      // Buffers the caller lists itself (the vectors tests) come first.
      this.xfer = new Map();
      xo.buffers.forEach((b, i) => this.xfer.set(b, i));
    }
  }

  end() {
    this.busy = false;
    this.refs = null;
    this.xo = null;
    this.xfer = null;
    if (this.seen.size !== 0) this.seen.clear();
    if (this.buf.length > KEEP_BUFFER_MAX) {
      this.buf = new Uint8Array(INITIAL_BUFFER);
      this.dv = new DataView(this.buf.buffer);
    }
  }

  tooLarge() {
    const e = new WireError(`message exceeds maxMessage (${this.limit} bytes) while it is encoded; ` +
      "send less data per call or raise maxMessage on both sides");
    e.tooLarge = true;
    return e;
  }

  grow(n) {
    const need = this.pos + n;
    if (need > this.limit) throw this.tooLarge();
    if (need > MAX_ENCODED) {
      throw new WireError(`message too large to encode (over ${MAX_ENCODED} bytes); send less data per call`);
    }
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    if (size > MAX_ENCODED) size = MAX_ENCODED;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }

  u8(v) {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = v;
  }

  u32(v) {
    if (this.pos + 5 > this.buf.length) this.grow(5);
    const buf = this.buf;
    let pos = this.pos;
    while (v >= 0x80) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  checkedU32(v, what) {
    if (typeof v !== "number" || v >>> 0 !== v) {
      throw new WireError(`${what} must be an integer in 0..2^32-1, got ${String(v)}`);
    }
    this.u32(v);
  }

  f64(n) {
    if (this.pos + 8 > this.buf.length) this.grow(8);
    if (n !== n) {
      // One canonical NaN: payloads are not preserved (docs/protocol.md §1).
      this.dv.setUint32(this.pos, 0, true);
      this.dv.setUint32(this.pos + 4, 0x7ff80000, true);
    } else {
      this.dv.setFloat64(this.pos, n, true);
    }
    this.pos += 8;
  }

  bytes(src) {
    const n = src.length;
    this.u32(n);
    if (this.pos + n > this.buf.length) this.grow(n);
    this.buf.set(src, this.pos);
    this.pos += n;
  }

  // A Rust `String` (no enum tag); `s` is well-formed. `notAscii`: the caller
  // already found a non-ASCII character, skip the ASCII attempt.
  utf8(s, notAscii = false) {
    const len = s.length;
    if (len < ASCII_ENCODE_MAX && !notAscii) {
      if (this.pos + 1 + len > this.buf.length) this.grow(1 + len);
      const buf = this.buf;
      let p = this.pos + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === len) {
        buf[this.pos] = len;
        this.pos = p;
        return;
      }
    }
    const max = len * 3;
    const hdr = varintSize(max);
    if (this.pos + hdr + max > this.buf.length) this.grow(hdr + max);
    const start = this.pos + hdr;
    const { written } = utf8Encoder.encodeInto(s, this.buf.subarray(start));
    const real = varintSize(written);
    if (real !== hdr) this.buf.copyWithin(this.pos + real, start, start + written);
    this.u32(written);
    this.pos += written;
  }

  // JsString: Utf8 (0) when well-formed, else Utf16 (1) code units LE.
  jsString(s) {
    const len = s.length;
    if (len < ASCII_ENCODE_MAX) {
      if (this.pos + 2 + len > this.buf.length) this.grow(2 + len);
      const buf = this.buf;
      let p = this.pos + 2;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === len) {
        buf[this.pos] = 0;
        buf[this.pos + 1] = len;
        this.pos = p;
        return;
      }
    }
    if (isWellFormed(s)) {
      this.u8(0);
      this.utf8(s, len < ASCII_ENCODE_MAX);
      return;
    }
    this.u8(1);
    this.u32(len * 2);
    if (this.pos + len * 2 > this.buf.length) this.grow(len * 2);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      buf[p++] = c & 0xff;
      buf[p++] = c >>> 8;
    }
    this.pos = p;
  }

  value(v) {
    switch (typeof v) {
      case "number":
        if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
          if (this.pos + 6 > this.buf.length) this.grow(6);
          this.buf[this.pos++] = T_INT;
          this.u32(((v << 1) ^ (v >> 31)) >>> 0);
        } else {
          this.u8(T_FLOAT);
          this.f64(v);
        }
        return;
      case "string":
        this.u8(T_STRING);
        this.jsString(v);
        return;
      case "boolean":
        if (this.pos + 2 > this.buf.length) this.grow(2);
        this.buf[this.pos++] = T_BOOL;
        this.buf[this.pos++] = v ? 1 : 0;
        return;
      case "undefined":
        this.u8(T_UNDEFINED);
        return;
      case "object":
        if (v === null) this.u8(T_NULL);
        else if (this.byRef) this.remote(v);
        else this.object(v);
        return;
      case "function":
        this.remote(v);
        return;
      case "bigint":
        this.bigint(v);
        return;
      case "symbol":
        this.u8(T_SYMBOL);
        this.symbol(v);
        return;
      default:
        throw new WireError(`cannot send a ${typeof v} value`);
    }
  }

  // JsSymbol (docs/protocol.md §2 "Symbols"): well-known by number,
  // registered by its Symbol.for key, unique as a reference.
  symbol(s) {
    const i = SYMBOL_INDEX.get(s);
    if (i !== undefined) {
      this.u8(0);
      this.u8(i);
      return;
    }
    const key = Symbol.keyFor(s);
    if (key !== undefined) {
      this.u8(1);
      this.jsString(key);
      return;
    }
    const refs = this.refs;
    if (refs == null) throw new WireError(`cannot send the unique symbol ${String(s)} without a refs table`);
    const r = refs.exportValue(s);
    if (r != null && r.local !== undefined) {
      this.u8(3);
      this.checkedU32(r.local, "Local symbol id");
    } else if (r != null && r.id !== undefined) {
      this.u8(2);
      this.checkedU32(r.id, "Remote symbol id");
      const d = s.description;
      if (d === undefined) {
        this.u8(0);
      } else {
        this.u8(1);
        this.jsString(d);
      }
    } else {
      throw new WireError("refs.exportValue must return { local: id } or { id } for a symbol");
    }
  }

  bigint(v) {
    this.u8(T_BIGINT);
    const negative = v < 0n;
    this.u8(negative ? 1 : 0);
    if (v === 0n) {
      this.u8(0);
      return;
    }
    const hex = (negative ? -v : v).toString(16);
    const n = (hex.length + 1) >> 1;
    this.u32(n);
    if (this.pos + n > this.buf.length) this.grow(n);
    const buf = this.buf;
    // Little-endian: the last hex pair is the lowest byte.
    let end = hex.length;
    for (let i = 0; i < n; i++) {
      const start = end - 2 < 0 ? 0 : end - 2;
      buf[this.pos + i] = parseInt(hex.slice(start, end), 16);
      end -= 2;
    }
    this.pos += n;
  }

  remote(v) {
    const refs = this.refs;
    if (refs == null) {
      throw new WireError(`cannot send a ${typeof v === "function" ? "function" : "non-copyable object"} without a refs table`);
    }
    if (refs.convert !== null && refs.convert !== undefined && typeof v === "object") {
      const c = refs.convert(v);
      if (c !== v) {
        this.converted(c);
        return;
      }
    }
    const r = refs.exportValue(v);
    if (r != null && r.local !== undefined) {
      this.u8(T_LOCAL);
      this.checkedU32(r.local, "Local id");
    } else if (r != null && (r.kind === 0 || r.kind === 1 || r.kind === 2)) {
      this.u8(T_REMOTE);
      this.u8(r.kind);
      this.checkedU32(r.id, "Remote id");
    } else {
      throw new WireError("refs.exportValue must return { local: id } or { kind: 0|1|2, id }");
    }
  }

  // What refs.convert gave instead of an object: by value, even where the
  // message sends objects by reference.
  converted(c) {
    const byRef = this.byRef;
    this.byRef = false;
    try {
      this.value(c);
    } finally {
      this.byRef = byRef;
    }
  }

  enter() {
    if (++this.depth > MAX_DEPTH) {
      throw new WireError(`value nested deeper than ${MAX_DEPTH} containers; flatten it before sending`);
    }
  }

  // A top-level value of the message (argument, result, ...): the buffers
  // transfer() marked on it go with this message. All top-level values are
  // marked before any is written, so a buffer listed by a later argument is
  // moved wherever it appears.
  mark(v) {
    const list = takeMarks(v);
    if (list === undefined) return;
    const xo = this.xo;
    xo.marked.push(v, list);
    if (this.xfer === null) this.xfer = new Map();
    for (let i = 0; i < list.length; i++) {
      const b = list[i];
      if (this.xfer.has(b)) {
        throw new WireError("the same ArrayBuffer is transferred twice in one message (listed by two transfer() calls); list it once");
      }
      if (isDetached(b)) {
        throw new WireError("a transferred ArrayBuffer is detached (it was moved already, maybe by an earlier call); send a new buffer");
      }
      this.xfer.set(b, xo.buffers.length);
      xo.buffers.push(b);
    }
  }

  markAll(list) {
    if (isArray(list)) for (let i = 0; i < list.length; i++) this.mark(list[i]);
  }

  // `buf` is a transferred buffer with index `i`: write it as Transferred
  // (move mode) and return true, or return false to copy it (copy mode: the
  // caller detaches the buffer once the message is sent).
  transferred(i, view) {
    if (!this.xo.move) return false;
    this.u8(T_TRANSFERRED);
    this.u32(i);
    if (view === null) {
      this.u8(0);
    } else {
      const kind = TYPED_KIND.get(view[Symbol.toStringTag] ?? "DataView");
      if (kind === undefined) throw new WireError("unknown ArrayBuffer view kind; send a standard typed array");
      this.u8(1);
      this.u8(kind);
      this.checkedU32(view.byteOffset, "transferred view byteOffset");
      this.checkedU32(view.byteLength, "transferred view byteLength");
    }
    return true;
  }

  object(o) {
    const seen = this.seen;
    const index = seen.get(o);
    if (index !== undefined) {
      this.u8(T_BACKREF);
      this.u32(index);
      return;
    }
    const refs = this.refs;
    if (refs != null && refs.isProxy !== undefined && refs.isProxy(o)) {
      this.remote(o);
      return;
    }
    const proto = getProto(o);
    if (proto === ArrayProto || (proto !== ObjectProto && isArray(o))) {
      seen.set(o, seen.size);
      this.array(o);
    } else if (proto === ObjectProto || proto === null) {
      seen.set(o, seen.size);
      this.plain(o);
    } else if (isView(o)) {
      seen.set(o, seen.size);
      if (this.xfer !== null) {
        const i = this.xfer.get(o.buffer);
        if (i !== undefined && this.transferred(i, o)) return;
      }
      const kind = TYPED_KIND.get(o[Symbol.toStringTag] ?? "DataView");
      if (kind === undefined) throw new WireError("unknown ArrayBuffer view kind; send a standard typed array");
      this.u8(T_TYPEDARRAY);
      this.u8(kind);
      this.bytes(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
    } else if (o instanceof ArrayBuffer ||
      (typeof SharedArrayBuffer === "function" && o instanceof SharedArrayBuffer)) {
      // A SharedArrayBuffer is copied too: its contents are what can cross.
      seen.set(o, seen.size);
      if (this.xfer !== null) {
        const i = this.xfer.get(o);
        if (i !== undefined && this.transferred(i, null)) return;
      }
      this.u8(T_ARRAYBUFFER);
      this.bytes(new Uint8Array(o));
    } else if (o instanceof Date) {
      seen.set(o, seen.size);
      this.u8(T_DATE);
      this.f64(o.getTime());
    } else if (o instanceof RegExp) {
      seen.set(o, seen.size);
      this.u8(T_REGEXP);
      this.jsString(o.source);
      this.utf8(o.flags);
    } else if (o instanceof Error) {
      seen.set(o, seen.size);
      this.error(o);
    } else if (o instanceof Map) {
      seen.set(o, seen.size);
      this.u8(T_MAP);
      this.u32(o.size);
      this.enter();
      let n = 0;
      for (const [k, v] of o) {
        this.value(k);
        this.value(v);
        n++;
      }
      if (n !== o.size) throw new WireError("Map changed size while it was being sent");
      this.depth--;
    } else if (o instanceof Set) {
      seen.set(o, seen.size);
      this.u8(T_SET);
      this.u32(o.size);
      this.enter();
      let n = 0;
      for (const v of o) {
        this.value(v);
        n++;
      }
      if (n !== o.size) throw new WireError("Set changed size while it was being sent");
      this.depth--;
    } else {
      this.remote(o);
    }
  }

  array(a) {
    const len = a.length;
    if (!(typeof len === "number" && len >= 0 && len <= MAX_ARRAY_LENGTH && Math.floor(len) === len)) {
      // Only a Proxy can claim it.
      throw new WireError(`an array-like object claims length ${String(len)}, which no array can have; send a real array`);
    }
    // One byte per element would pass maxMessage, or a run of holes: only
    // the present elements are written (their cost is not the length's).
    if (len >= HOLE_RUN && (len > this.limit - this.pos || hasHoleRun(a, len))) {
      this.sparse(a, len);
      return;
    }
    this.u8(T_ARRAY);
    this.u32(len);
    this.enter();
    for (let i = 0; i < len; i++) {
      const v = a[i];
      if (typeof v === "number" && (v | 0) === v && (v !== 0 || 1 / v > 0)) {
        // Int elements inline: the common numeric array skips two calls each.
        if (this.pos + 6 > this.buf.length) this.grow(6);
        const buf = this.buf;
        let pos = this.pos;
        buf[pos++] = T_INT;
        let z = ((v << 1) ^ (v >> 31)) >>> 0;
        while (z >= 0x80) {
          buf[pos++] = (z & 0x7f) | 0x80;
          z >>>= 7;
        }
        buf[pos++] = z;
        this.pos = pos;
      } else if (v === undefined && !(i in a)) {
        this.u8(T_HOLE);
      } else {
        this.value(v);
      }
    }
    this.depth--;
  }

  sparse(a, len) {
    const names = ownNames(a);
    const at = [];
    let sorted = true;
    for (let i = 0; i < names.length; i++) {
      const n = arrayIndex(names[i]);
      if (n < 0 || n >= len) continue;
      if (at.length !== 0 && n < at[at.length - 1]) sorted = false;
      at.push(n);
    }
    // A Proxy's ownKeys may come in any order (never with duplicates).
    if (!sorted) at.sort((x, y) => x - y);
    // Each entry takes two bytes at least: fail before the work, not after.
    if (2 * at.length > this.limit - this.pos) throw this.tooLarge();
    this.u8(T_SPARSE);
    this.u32(len);
    this.u32(at.length);
    this.enter();
    for (let i = 0; i < at.length; i++) {
      this.u32(at[i]);
      this.value(a[at[i]]);
    }
    this.depth--;
  }

  plain(o) {
    const keys = objectKeys(o);
    const n = keys.length;
    this.u8(T_OBJECT);
    this.u32(n);
    this.enter();
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      this.jsString(k);
      this.value(o[k]);
    }
    this.depth--;
  }

  error(e) {
    this.u8(T_ERROR);
    this.jsString(String(e.name));
    this.jsString(String(e.message));
    const stack = e.stack;
    if (typeof stack === "string") {
      this.u8(1);
      this.jsString(stack);
    } else {
      this.u8(0);
    }
    this.enter();
    if ("cause" in e) {
      this.u8(1);
      this.value(e.cause);
    } else {
      this.u8(0);
    }
    const keys = objectKeys(e);
    let n = 0;
    for (const k of keys) if (k !== "name" && k !== "message" && k !== "stack" && k !== "cause") n++;
    this.u32(n);
    for (const k of keys) {
      if (k === "name" || k === "message" || k === "stack" || k === "cause") continue;
      this.jsString(k);
      this.value(e[k]);
    }
    this.depth--;
  }

  key(k) {
    if (typeof k === "string") {
      this.u8(0);
      this.jsString(k);
      return;
    }
    if (typeof k !== "symbol") {
      throw new WireError(`property key ${String(k)} cannot cross: a key is a string or a symbol`);
    }
    this.u8(1);
    this.symbol(k);
  }

  // The answer to a Describe request (docs/protocol.md §3 "Describe"): an
  // Array by value whose first element is an Array of references (the
  // prototype chain and the like: by value, Object.prototype would be copied).
  describeReply(v) {
    const seen = this.seen;
    seen.set(v, seen.size);
    this.u8(T_ARRAY);
    this.u32(v.length);
    const refs = v[0];
    seen.set(refs, seen.size);
    this.u8(T_ARRAY);
    this.u32(refs.length);
    this.byRef = true;
    for (let i = 0; i < refs.length; i++) this.value(refs[i]);
    this.byRef = false;
    for (let i = 1; i < v.length; i++) this.value(v[i]);
  }

  // The reply to a request with the `described` prefix: `[value, snapshot]`
  // (an apply: `[value, snapshot, chain]`) where `value` goes as the op's
  // reply does (by reference), `snapshot` is null or a Describe reply of
  // `value` (describeReply) and `chain` null or an Array of references.
  describedReply(v) {
    this.seen.set(v, this.seen.size);
    this.u8(T_ARRAY);
    this.u32(v.length);
    this.byRef = true;
    this.value(v[0]);
    this.byRef = false;
    if (v[1] === null) this.u8(T_NULL);
    else this.describeReply(v[1]);
    if (v.length > 2) {
      const chain = v[2];
      if (chain === null) {
        this.u8(T_NULL);
        return;
      }
      this.seen.set(chain, this.seen.size);
      this.u8(T_ARRAY);
      this.u32(chain.length);
      this.byRef = true;
      for (let i = 0; i < chain.length; i++) this.value(chain[i]);
      this.byRef = false;
    }
  }

  values(list, what) {
    if (!isArray(list)) throw new WireError(`${what} must be an array`);
    const n = list.length;
    this.u32(n);
    for (let i = 0; i < n; i++) this.value(list[i]);
  }

  releases(list) {
    if (list == null) {
      this.u8(0);
      return;
    }
    const n = list.length;
    this.u32(n);
    for (let i = 0; i < n; i++) {
      const r = list[i];
      this.checkedU32(r[0], "release id");
      this.checkedU32(r[1], "release count");
    }
  }

  op(op) {
    const t = op == null ? undefined : OP_INDEX.get(op.t);
    if (t === undefined) throw new WireError(`unknown op ${op == null ? op : JSON.stringify(op.t)}; expected one of ${OPS.join(", ")}`);
    this.u8(t);
    switch (t) {
      case OP.get: case OP.has: case OP.delete: case OP.get_own_property_descriptor:
        this.key(op.key);
        return;
      case OP.set:
        this.key(op.key);
        this.value(op.value);
        return;
      case OP.define_property:
        this.key(op.key);
        this.value(op.descriptor);
        return;
      case OP.set_prototype_of:
        this.value(op.proto);
        return;
      case OP.apply:
        this.value(op.this);
        this.values(op.args, "apply args");
        return;
      case OP.construct:
        this.values(op.args, "construct args");
        return;
      case OP.call:
        if (typeof op.name !== "string") throw new WireError("call op needs a string name");
        this.jsString(op.name);
        this.values(op.args, "call args");
        return;
      default:
        return; // own_keys, get_prototype_of, describe: no fields
    }
  }

  message(msg) {
    // Read before the values: a getter they run may make a sync call, whose
    // message reuses the endpoint's message object (endpoint.js `_req`).
    const rel = msg?.releases;
    switch (msg == null ? undefined : msg.t) {
      case "request":
        this.u8(TAG_REQUEST);
        this.checkedU32(msg.seq, "seq");
        this.checkedU32(msg.nestedIn ?? 0, "nestedIn");
        this.checkedU32(msg.target ?? 0, "target");
        this.byRef = false;
        if (this.xo !== null && marksActive && msg.op != null) {
          const op = msg.op;
          if (op.t === "call" || op.t === "construct") this.markAll(op.args);
          else if (op.t === "apply") { this.mark(op.this); this.markAll(op.args); }
          else if (op.t === "set") this.mark(op.value);
        }
        if (msg.described === true) {
          const t = msg.op == null ? undefined : msg.op.t;
          if (t !== "get" && t !== "apply" && t !== "construct") throw new WireError(`the described prefix goes before a get, apply or construct, not ${t}`);
          this.u8(OP.described);
        }
        this.op(msg.op);
        this.releases(rel);
        return;
      case "reply":
        this.u8(TAG_REPLY);
        this.checkedU32(msg.seq, "seq");
        this.u8(msg.ok === false ? OUTCOME_THROWN : OUTCOME_OK);
        this.byRef = msg.byRef === true;
        if (this.xo !== null && marksActive) this.mark(msg.byRef === "described" ? msg.value[0] : msg.value);
        if (msg.byRef === "describe") this.describeReply(msg.value);
        else if (msg.byRef === "described") this.describedReply(msg.value);
        else this.value(msg.value);
        this.releases(rel);
        return;
      case "release":
        this.u8(TAG_RELEASE);
        this.releases(msg.releases);
        return;
      case "cancel":
        this.u8(TAG_CANCEL);
        this.checkedU32(msg.seq, "seq");
        return;
      default:
        throw new WireError(`unknown message type ${msg == null ? msg : JSON.stringify(msg.t)}; expected request, reply, release or cancel`);
    }
  }
}

let shared = new Encoder();

// The shared encoder unless an encode is running already (refs.exportValue
// calling back into the codec): then a private one.
function takeEncoder(refs, xo = null, limit = MAX_ENCODED) {
  const enc = shared.busy ? new Encoder() : shared;
  enc.begin(refs, xo, limit);
  return enc;
}

// An encode failed: the marks it consumed go back on their values, so the
// caller may retry, and the record is empty again.
function unwindTransfers(xo) {
  if (xo === null) return;
  const m = xo.marked;
  for (let i = 0; i < m.length; i += 2) restoreMarks(m[i], m[i + 1]);
  m.length = 0;
  xo.buffers.length = 0;
}

/**
 * A fresh transfer record for the `xo` argument of the encoders: `move`
 * true writes the marked buffers as Transferred (the caller sends
 * `buffers` beside the bytes, in that order); false copies them into the
 * message (the caller detaches `buffers` after sending). `marked` lets
 * `unmarkTransfers` put the marks back when the message is not sent.
 */
export function transferRecord(move = true) {
  return { move, buffers: [], marked: [] };
}

/** The message was not sent after all: marks back on their values, record emptied. */
export function unmarkTransfers(xo) {
  unwindTransfers(xo);
}

// Whether `a` has HOLE_RUN holes in a row (the scan stops at the first run).
function hasHoleRun(a, len) {
  let run = 0;
  for (let i = 0; i < len; i++) {
    if (i in a) run = 0;
    else if (++run === HOLE_RUN) return true;
  }
  return false;
}

// The array index a property name stands for, or -1.
function arrayIndex(k) {
  const n = Number(k);
  return n >>> 0 === n && n !== MAX_ARRAY_LENGTH && String(n) === k ? n : -1;
}

function finish(enc, copy) {
  // Small messages fit the buffer without a grow(), where the limit is checked.
  if (enc.pos > enc.limit) throw enc.tooLarge();
  const out = copy ? enc.buf.slice(0, enc.pos) : enc.buf.subarray(0, enc.pos);
  enc.end();
  return out;
}

/**
 * Encodes a message; returns a fresh Uint8Array the caller owns. `limit`
 * (maxMessage) bounds the encoded size: passing it is a WireError, raised
 * before the work where the work alone would pass it.
 */
export function encodeMessage(msg, refs, xo = null, limit = MAX_ENCODED) {
  const enc = takeEncoder(refs, xo, limit);
  try {
    enc.message(msg);
    return finish(enc, true);
  } catch (e) {
    enc.end();
    unwindTransfers(xo);
    throw e;
  }
}

/**
 * Encodes a message into the reused buffer and returns a view of it, valid
 * only until the next encode on this thread: copy it before anything else runs.
 */
export function encodeMessageView(msg, refs, xo = null, limit = MAX_ENCODED) {
  const enc = takeEncoder(refs, xo, limit);
  try {
    enc.message(msg);
    return finish(enc, enc !== shared);
  } catch (e) {
    enc.end();
    unwindTransfers(xo);
    throw e;
  }
}

/** Encodes one Value (index space from 0); returns a fresh Uint8Array. */
export function encodeValue(value, refs, byRef = false, xo = null, limit = MAX_ENCODED) {
  const enc = takeEncoder(refs, xo, limit);
  try {
    enc.byRef = byRef;
    if (xo !== null && marksActive) enc.mark(value);
    enc.value(value);
    return finish(enc, true);
  } catch (e) {
    enc.end();
    unwindTransfers(xo);
    throw e;
  }
}

// ---------------------------------------------------------------- decoding

const f64Scratch = new Float64Array(1);
const f64Bytes = new Uint8Array(f64Scratch.buffer);

class Decoder {
  constructor(bytes, refs, buffers = null) {
    if (!(bytes instanceof Uint8Array)) {
      throw new WireError("decode expects a Uint8Array of message bytes");
    }
    this.b = bytes;
    this.pos = 0;
    this.end = bytes.length;
    this.objs = [];
    this.refs = refs;
    this.depth = 0;
    this.buffers = buffers; // the transferred ArrayBuffers that came with the bytes
  }

  // `kind` and `at` are bridge-core's DecodeErrorKind code and offset
  // (docs/protocol.md §1 "Decode errors"; tests/vectors/decode.json); the
  // text is the kind and `detail`.
  fail(kind, at = this.pos, detail = "") {
    const e = new WireError(`malformed message at byte ${at}: ${kind.replace(/_/g, " ")}${detail === "" ? "" : `: ${detail}`} (the peer must speak the same worker-bridge protocol version)`);
    e.kind = kind;
    e.offset = at;
    throw e;
  }

  need(n) {
    if (n > this.end - this.pos) this.fail("truncated", this.pos, `${n} bytes needed, ${this.end - this.pos} left`);
  }

  u8() {
    if (this.pos >= this.end) this.fail("truncated");
    return this.b[this.pos++];
  }

  bool() {
    const v = this.u8();
    if (v > 1) this.fail("invalid_bool", this.pos - 1, v);
    return v === 1;
  }

  option() {
    const v = this.u8();
    if (v > 1) this.fail("invalid_option", this.pos - 1, v);
    return v === 1;
  }

  u32() {
    const b = this.b;
    let pos = this.pos;
    if (pos < this.end) {
      const x = b[pos];
      if (x < 0x80) {
        this.pos = pos + 1;
        return x;
      }
    }
    let v = 0;
    for (let i = 0; i < 5; i++) {
      if (pos >= this.end) this.fail("truncated");
      const x = b[pos++];
      if (i === 4) {
        // The fifth group holds only the top 4 bits of a u32.
        if (x > 0x7f) this.fail("varint_too_long");
        if (x > 0x0f) this.fail("varint_overflow");
        this.pos = pos;
        return (v + x * 0x10000000) >>> 0;
      }
      v |= (x & 0x7f) << (7 * i);
      if (x < 0x80) {
        this.pos = pos;
        return v >>> 0;
      }
    }
    return v; // unreachable
  }

  len(unit, what) {
    const at = this.pos;
    const n = this.u32();
    if (n > this.end - this.pos) this.fail("length_too_large", at, `${what} of ${n} bytes, ${this.end - this.pos} left`);
    return n;
  }

  count(what) {
    // Every element takes at least one byte: a bigger count cannot be honest.
    const at = this.pos;
    const n = this.u32();
    if (n > this.end - this.pos) this.fail("length_too_large", at, `${what} of ${n} elements, ${this.end - this.pos} bytes left`);
    return n;
  }

  f64() {
    this.need(8);
    const b = this.b, p = this.pos;
    f64Bytes[0] = b[p]; f64Bytes[1] = b[p + 1]; f64Bytes[2] = b[p + 2]; f64Bytes[3] = b[p + 3];
    f64Bytes[4] = b[p + 4]; f64Bytes[5] = b[p + 5]; f64Bytes[6] = b[p + 6]; f64Bytes[7] = b[p + 7];
    this.pos = p + 8;
    return f64Scratch[0];
  }

  utf8() {
    const at = this.pos;
    const n = this.len(1, "string");
    const b = this.b;
    const start = this.pos;
    if (n <= ASCII_DECODE_MAX) {
      let s = "";
      let i = start;
      const end = start + n;
      for (; i < end; i++) {
        const c = b[i];
        if (c >= 0x80) break;
        s += String.fromCharCode(c);
      }
      if (i === end) {
        this.pos = end;
        return s;
      }
    }
    let s;
    try {
      s = utf8Decoder.decode(b.subarray(start, start + n));
    } catch {
      this.fail("invalid_utf8", at);
    }
    this.pos = start + n;
    return s;
  }

  // Enum variants are u32 varints (docs/protocol.md §1), as in bridge-core:
  // a non-minimal 0x80 0x00 is 0, and an unknown variant is named by its value.
  jsString() {
    const at = this.pos;
    const t = this.u32();
    if (t === 0) return this.utf8();
    if (t !== 1) this.fail("unknown_variant", at, `JsString ${t}`);
    const lenAt = this.pos;
    const n = this.len(1, "UTF-16 string");
    if (n & 1) this.fail("odd_utf16", lenAt, `${n} bytes`);
    const b = this.b;
    let s = "";
    let p = this.pos;
    const end = p + n;
    // Chunks keep String.fromCharCode's argument list short.
    const units = new Uint16Array(Math.max(1, Math.min(n >> 1, 4096)));
    while (p < end) {
      let k = 0;
      while (p < end && k < units.length) {
        units[k++] = b[p] | (b[p + 1] << 8);
        p += 2;
      }
      s += String.fromCharCode.apply(null, k === units.length ? units : units.subarray(0, k));
    }
    this.pos = end;
    return s;
  }

  // A container's tag at `at`: refused at its tag when too deep, before
  // anything after the tag is read (as bridge-core).
  enter(at) {
    if (++this.depth > MAX_DEPTH) this.fail("too_deep", at, `over ${MAX_DEPTH} containers`);
  }

  value(inArray) {
    const at = this.pos;
    const tag = this.u32();
    switch (tag) {
      case T_UNDEFINED: return undefined;
      case T_NULL: return null;
      case T_BOOL: return this.bool();
      case T_INT: {
        const z = this.u32();
        return (z >>> 1) ^ -(z & 1);
      }
      case T_FLOAT: return this.f64();
      case T_STRING: return this.jsString();
      case T_BIGINT: return this.bigint();
      case T_ARRAYBUFFER: {
        const n = this.len(1, "ArrayBuffer");
        const ab = copyOut(this.b, this.pos, n);
        this.pos += n;
        this.objs.push(ab);
        return ab;
      }
      case T_TYPEDARRAY: return this.typedArray();
      case T_DATE: {
        const d = new Date(this.f64());
        this.objs.push(d);
        return d;
      }
      case T_REGEXP: {
        const source = this.jsString();
        const flags = this.utf8();
        let re;
        try {
          re = new RegExp(source, flags);
        } catch (e) {
          this.fail("invalid_regexp", at, e.message);
        }
        this.objs.push(re);
        return re;
      }
      case T_ERROR: return this.error(at);
      case T_ARRAY: {
        this.enter(at);
        const n = this.count("array");
        const a = [];
        this.objs.push(a);
        for (let i = 0; i < n; i++) {
          const v = this.value(true);
          if (v === HOLE) a.length = i + 1;
          else a.push(v);
        }
        this.depth--;
        return a;
      }
      case T_SPARSE: {
        this.enter(at);
        const length = this.u32();
        const n = this.count("sparse array");
        const a = [];
        this.objs.push(a);
        let prev = -1;
        for (let i = 0; i < n; i++) {
          const kAt = this.pos;
          const k = this.u32();
          if (k <= prev || k >= length) {
            this.fail("sparse_index", kAt, `${k} after ${prev}, length ${length}`);
          }
          prev = k;
          a[k] = this.value(false);
        }
        a.length = length;
        this.depth--;
        return a;
      }
      case T_OBJECT: {
        this.enter(at);
        const n = this.count("object");
        const o = {};
        this.objs.push(o);
        for (let i = 0; i < n; i++) {
          const k = this.jsString();
          const v = this.value(false);
          if (k === "__proto__") {
            Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
          } else {
            o[k] = v;
          }
        }
        this.depth--;
        return o;
      }
      case T_MAP: {
        this.enter(at);
        const n = this.count("Map");
        const m = new Map();
        this.objs.push(m);
        for (let i = 0; i < n; i++) {
          const k = this.value(false);
          m.set(k, this.value(false));
        }
        this.depth--;
        return m;
      }
      case T_SET: {
        this.enter(at);
        const n = this.count("Set");
        const s = new Set();
        this.objs.push(s);
        for (let i = 0; i < n; i++) s.add(this.value(false));
        this.depth--;
        return s;
      }
      case T_BACKREF: {
        const i = this.u32();
        if (i >= this.objs.length) this.fail("backref_out_of_range", at, `${i} of ${this.objs.length}`);
        return this.objs[i];
      }
      case T_REMOTE: {
        const kind = this.u8();
        if (kind > 2) this.fail("unknown_ref_kind", this.pos - 1, kind);
        const id = this.u32();
        if (this.refs == null) this.fail("no_refs", at);
        return this.refs.importRemote(kind, id);
      }
      case T_LOCAL: {
        const id = this.u32();
        if (this.refs == null) this.fail("no_refs", at);
        return this.refs.importLocal(id);
      }
      case T_HOLE:
        if (!inArray) this.fail("hole_outside_array", at);
        return HOLE;
      case T_TRANSFERRED: return this.transferred();
      case T_SYMBOL: return this.symbol();
      default:
        return this.fail("unknown_variant", at, `Value ${tag}`);
    }
  }

  bigint() {
    const negative = this.bool();
    const at = this.pos;
    const n = this.len(1, "BigInt magnitude");
    if (n === 0) {
      if (negative) this.fail("non_canonical_bigint", at);
      return 0n;
    }
    const b = this.b;
    const start = this.pos;
    if (b[start + n - 1] === 0) this.fail("non_canonical_bigint", at);
    let v;
    if (n <= 6) {
      let x = 0;
      for (let i = n - 1; i >= 0; i--) x = x * 256 + b[start + i];
      v = BigInt(x);
    } else {
      let hex = "0x";
      for (let i = n - 1; i >= 0; i--) hex += HEX[b[start + i]];
      v = BigInt(hex);
    }
    this.pos = start + n;
    return negative ? -v : v;
  }

  transferred() {
    const at = this.pos;
    const i = this.u32();
    let kind = -1, off = 0, len = 0;
    if (this.option()) {
      const kindAt = this.pos;
      kind = this.u8();
      off = this.u32();
      len = this.u32();
      if (kind > 12) this.fail("unknown_typed_array_kind", kindAt, kind);
      const size = TYPED_SIZES[kind];
      if (off % size !== 0 || len % size !== 0) {
        this.fail("transferred_view_alignment", kindAt, `${TYPED_NAMES[kind]} at ${off}, ${len} bytes`);
      }
    }
    // Only the receiver, which holds the buffers, can tell the rest.
    const bufs = this.buffers;
    if (bufs === null || i >= bufs.length) {
      this.fail("transferred_buffer", at, `#${i} of ${bufs === null ? "none (this transport copies buffers)" : bufs.length}`);
    }
    const buf = bufs[i];
    if (!(buf instanceof ArrayBuffer)) this.fail("transferred_buffer", at, `#${i} is no ArrayBuffer`);
    let v = buf;
    if (kind !== -1) {
      if (off + len > buf.byteLength) {
        this.fail("transferred_buffer", at, `${TYPED_NAMES[kind]} [${off}..+${len}] outside ${buf.byteLength} bytes`);
      }
      const Ctor = TYPED_CTORS[kind];
      if (Ctor === undefined) {
        throw new WireError(`received a ${TYPED_NAMES[kind]} but this JavaScript runtime lacks ${TYPED_NAMES[kind]}`);
      }
      v = new Ctor(buf, off, len / TYPED_SIZES[kind]); // DataView: size 1, a byte length
    }
    this.objs.push(v);
    return v;
  }

  typedArray() {
    const kindAt = this.pos;
    const kind = this.u8();
    const n = this.len(1, "typed array");
    if (kind > 12) this.fail("unknown_typed_array_kind", kindAt, kind);
    const size = TYPED_SIZES[kind];
    if (n % size !== 0) this.fail("typed_array_length", kindAt, `${TYPED_NAMES[kind]} of ${n} bytes`);
    const Ctor = TYPED_CTORS[kind];
    if (Ctor === undefined) {
      throw new WireError(`received a ${TYPED_NAMES[kind]} but this JavaScript runtime lacks ${TYPED_NAMES[kind]}; convert it to a supported typed array before sending`);
    }
    // A fresh, aligned buffer holding exactly the view's bytes.
    const ab = copyOut(this.b, this.pos, n);
    this.pos += n;
    const v = new Ctor(ab);
    this.objs.push(v);
    return v;
  }

  error(at) {
    this.enter(at);
    const name = this.jsString();
    const message = this.jsString();
    const stack = this.option() ? this.jsString() : undefined;
    const Ctor = Object.hasOwn(ERROR_CTORS, name) ? ERROR_CTORS[name] : Error;
    const e = Ctor === ERROR_CTORS.AggregateError ? new Ctor([], message) : new Ctor(message);
    if (Ctor === Error && name !== "Error") {
      Object.defineProperty(e, "name", { value: name, writable: true, enumerable: false, configurable: true });
    }
    if (stack !== undefined) {
      Object.defineProperty(e, "stack", { value: stack, writable: true, enumerable: false, configurable: true });
    } else {
      delete e.stack; // the sender had none; ours would point at this decoder
    }
    this.objs.push(e);
    if (this.option()) {
      const cause = this.value(false);
      Object.defineProperty(e, "cause", { value: cause, writable: true, enumerable: false, configurable: true });
    }
    const n = this.count("error props");
    for (let i = 0; i < n; i++) {
      const k = this.jsString();
      const v = this.value(false);
      Object.defineProperty(e, k, { value: v, writable: true, enumerable: true, configurable: true });
    }
    this.depth--;
    return e;
  }

  key() {
    const at = this.pos;
    const t = this.u32();
    if (t === 0) return this.jsString();
    if (t !== 1) this.fail("unknown_variant", at, `Key ${t}`);
    return this.symbol();
  }

  symbol() {
    const tagAt = this.pos;
    const t = this.u32();
    switch (t) {
      case 0: {
        const i = this.u8();
        if (i >= SYMBOLS.length) this.fail("unknown_symbol", this.pos - 1, i);
        const s = SYMBOLS[i];
        if (typeof s !== "symbol") {
          throw new WireError(`received Symbol.${SYMBOL_NAMES[i]} but this runtime lacks it`);
        }
        return s;
      }
      case 1: return Symbol.for(this.jsString());
      case 2: {
        const id = this.u32();
        const description = this.option() ? this.jsString() : undefined;
        if (this.refs == null) this.fail("no_refs", tagAt);
        return this.refs.importRemote(SYMBOL_KIND, id, description);
      }
      case 3: {
        const at = this.pos;
        const id = this.u32();
        if (this.refs == null) this.fail("no_refs", tagAt);
        const s = this.refs.importLocal(id);
        if (typeof s !== "symbol") this.fail("local_symbol", at, `#${id} names an object`);
        return s;
      }
      default:
        return this.fail("unknown_variant", tagAt, `Symbol ${t}`);
    }
  }

  values() {
    const n = this.count("argument list");
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.value(false);
    return out;
  }

  releases() {
    const n = this.count("release list");
    if (n === 0) return EMPTY;
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = [this.u32(), this.u32()];
    return out;
  }

  // `prefixed`: this op follows a Described prefix, where another prefix is
  // an unknown op (read once, never recursed into: docs/protocol.md §1).
  op(prefixed) {
    const tagAt = this.pos;
    const t = this.u32();
    switch (t) {
      case OP.get: case OP.has: case OP.delete: case OP.get_own_property_descriptor:
        return { t: OPS[t], key: this.key() };
      case OP.set: {
        const key = this.key();
        return { t: "set", key, value: this.value(false) };
      }
      case OP.own_keys: case OP.get_prototype_of: case OP.describe:
        return { t: OPS[t] };
      case OP.define_property: {
        const key = this.key();
        return { t: "define_property", key, descriptor: this.value(false) };
      }
      case OP.set_prototype_of:
        return { t: "set_prototype_of", proto: this.value(false) };
      case OP.apply: {
        const thisArg = this.value(false);
        return { t: "apply", this: thisArg, args: this.values() };
      }
      case OP.construct:
        return { t: "construct", args: this.values() };
      case OP.call: {
        const name = this.jsString();
        return { t: "call", name, args: this.values() };
      }
      case OP.described: if (!prefixed) {
        const at = this.pos;
        const op = this.op(true);
        if (op.t !== "get" && op.t !== "apply" && op.t !== "construct") {
          return this.fail("described_prefix", at, `before ${op.t}`);
        }
        op.described = true;
        return op;
      }
      // falls through: a prefix after a prefix
      default:
        return this.fail("unknown_variant", tagAt, `Op ${t}`);
    }
  }

  message() {
    const at = this.pos;
    const t = this.u32();
    switch (t) {
      case TAG_REQUEST: {
        const seq = this.u32();
        const nestedIn = this.u32();
        const target = this.u32();
        const op = this.op();
        return { t: "request", seq, nestedIn, target, op, releases: this.releases() };
      }
      case TAG_REPLY: {
        const seq = this.u32();
        const oAt = this.pos;
        const o = this.u32();
        if (o !== OUTCOME_OK && o !== OUTCOME_THROWN) this.fail("unknown_variant", oAt, `Outcome ${o}`);
        const value = this.value(false);
        return { t: "reply", seq, ok: o === OUTCOME_OK, value, releases: this.releases() };
      }
      case TAG_RELEASE:
        return { t: "release", releases: this.releases() };
      case TAG_CANCEL:
        return { t: "cancel", seq: this.u32() };
      default:
        return this.fail("unknown_variant", at, `Message ${t}`);
    }
  }

  done() {
    if (this.pos !== this.end) this.fail("trailing_bytes", this.pos, this.end - this.pos);
  }
}

const HOLE = Symbol("hole");

// A fresh ArrayBuffer with exactly these bytes (never a view of a pooled
// Node Buffer, whose .slice would share memory).
function copyOut(b, start, n) {
  const out = new Uint8Array(n);
  out.set(b.subarray(start, start + n));
  return out.buffer;
}
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Decodes a whole message; throws WireError on any malformed input. */
export function decodeMessage(bytes, refs, buffers = null) {
  const d = new Decoder(bytes, refs, buffers);
  const msg = d.message();
  d.done();
  return msg;
}

/** Decodes one Value (index space from 0); throws WireError on malformed input. */
export function decodeValue(bytes, refs, buffers = null) {
  const d = new Decoder(bytes, refs, buffers);
  const v = d.value(false);
  d.done();
  return v;
}
