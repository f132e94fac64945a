// Round trips with JS semantics, and hostile bytes.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  encodeValue, decodeValue, encodeMessage, encodeMessageView, decodeMessage,
  WireError, MAX_DEPTH,
} from "../src/wire.js";

const rt = (v, refs) => decodeValue(encodeValue(v, refs), refs);
const hex = (b) => Buffer.from(b).toString("hex");

// Refs that export every object it is given under a fresh id and imports
// them back as the same objects, so round trips through Remote keep identity.
function loopbackRefs() {
  const ids = new Map();
  const objs = new Map();
  const proxies = new Set();
  return {
    exported: 0,
    isProxy: (o) => proxies.has(o),
    exportValue(o) {
      this.exported++;
      if (proxies.has(o)) return { local: ids.get(o) };
      let id = ids.get(o);
      if (id === undefined) {
        id = ids.size + 1;
        ids.set(o, id);
        objs.set(id, o);
      }
      return { kind: typeof o === "function" ? 0 : Array.isArray(o) ? 2 : 1, id };
    },
    importRemote: (kind, id) => objs.get(id),
    importLocal: (id) => objs.get(id),
    markProxy(o, id) {
      proxies.add(o);
      ids.set(o, id);
      objs.set(id, o);
    },
  };
}

test("numbers: Int vs Float and exact JS semantics", () => {
  for (const n of [0, 1, -1, 63, 64, -65, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1,
    -0, NaN, Infinity, -Infinity, 0.1, 1e300, 5e-324, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2]) {
    const back = rt(n);
    assert.ok(Object.is(back, n), `${n} -> ${back}`);
    const tag = encodeValue(n)[0];
    const isInt = Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 && !Object.is(n, -0);
    assert.equal(tag, isInt ? 3 : 4, `tag of ${Object.is(n, -0) ? "-0" : n}`);
  }
  // Every NaN is written as the one canonical NaN.
  const odd = new Float64Array(new BigUint64Array([0x7ff0000000000001n]).buffer)[0];
  assert.equal(hex(encodeValue(odd)), "04000000000000f87f");
});

test("bigints of every size and sign", () => {
  for (const b of [0n, 1n, -1n, 255n, 256n, -256n, 2n ** 48n - 1n, 2n ** 64n + 1n, -(2n ** 300n - 1n), 10n ** 100n]) {
    assert.equal(rt(b), b);
  }
});

test("strings: ASCII, non-ASCII, long, BOM, and lone surrogates exactly", () => {
  const cases = ["", "a", "héllo", "\u{1F980} ok", "\uFEFFbom kept", "x".repeat(31), "y".repeat(32),
    "z".repeat(100_000), "é".repeat(70_000), "\uD800", "\uDC00a", "a\uD800\uD800b", "\uDC00\uD800",
    "mixed \uD83E\uDD80 and lone \uD83E", "\0nul\0"];
  for (const s of cases) {
    const bytes = encodeValue(s);
    assert.equal(bytes[1], s.isWellFormed() ? 0 : 1, `JsString variant for ${JSON.stringify(s.slice(0, 10))}`);
    assert.equal(rt(s), s);
  }
  // A 2-byte length prefix after a 3-byte reservation: the bytes move down.
  const s = "é".repeat(60); // 120 UTF-8 bytes, reserved 180
  assert.equal(hex(encodeValue(s).subarray(0, 4)), "060078c3");
});

test("primitives, dates, regexps, buffers and every typed array", () => {
  assert.equal(rt(undefined), undefined);
  assert.equal(rt(null), null);
  assert.equal(rt(true), true);
  assert.equal(rt(false), false);
  const d = rt(new Date(1700000000123));
  assert.ok(d instanceof Date && d.getTime() === 1700000000123);
  assert.ok(Number.isNaN(rt(new Date(NaN)).getTime()));
  const re = rt(/a\/b[\uD800]+/giu);
  assert.ok(re instanceof RegExp);
  assert.equal(re.source, /a\/b[\uD800]+/giu.source);
  assert.equal(re.flags, "giu");
  const ab = rt(Uint8Array.of(1, 2, 3).buffer);
  assert.ok(ab instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(ab)], [1, 2, 3]);
  const sab = new SharedArrayBuffer(2);
  new Uint8Array(sab).set([9, 8]);
  assert.deepEqual([...new Uint8Array(rt(sab))], [9, 8]);
  const kinds = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array,
    Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];
  if (typeof Float16Array === "function") kinds.push(Float16Array);
  for (const K of kinds) {
    const big = K === BigInt64Array || K === BigUint64Array;
    const base = new K(8);
    for (let i = 0; i < 8; i++) base[i] = big ? BigInt(i * 3 + 1) : i * 3 + 1;
    const view = base.subarray(2, 6); // byteOffset/length applied
    const back = rt(view);
    assert.equal(back.constructor, K);
    assert.equal(back.byteOffset, 0);
    assert.deepEqual([...back], [...view]);
  }
  const dvBuf = Uint8Array.of(1, 2, 3, 4, 5).buffer;
  const dv = rt(new DataView(dvBuf, 1, 3));
  assert.ok(dv instanceof DataView);
  assert.deepEqual([...new Uint8Array(dv.buffer)], [2, 3, 4]);
});

test("cycles keep identity and shared objects stay shared", () => {
  const a = { name: "a" };
  a.self = a;
  const shared = [1, 2];
  const m = new Map([[shared, a]]);
  const s = new Set([m, shared]);
  const root = { a, shared, again: shared, m, s, list: [a, shared] };
  const back = rt(root);
  assert.equal(back.a.self, back.a);
  assert.equal(back.shared, back.again);
  assert.equal(back.list[0], back.a);
  assert.equal(back.list[1], back.shared);
  const [[mk, mv]] = back.m;
  assert.equal(mk, back.shared);
  assert.equal(mv, back.a);
  assert.deepEqual([...back.s], [back.m, back.shared]);
  // Sharing across the arguments of one message (one index space).
  const msg = decodeMessage(encodeMessage({ t: "request", seq: 1, op: { t: "call", name: "f", args: [shared, shared] } }));
  assert.equal(msg.op.args[0], msg.op.args[1]);
  // A cycle through an error's cause.
  const e = new Error("loop");
  e.cause = e;
  const eb = rt(e);
  assert.equal(eb.cause, eb);
});

test("array holes are kept; undefined elements are not holes", () => {
  // eslint-disable-next-line no-sparse-arrays
  const arr = [1, , undefined, , 5];
  arr.length = 7;
  const back = rt(arr);
  assert.equal(back.length, 7);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((i) => i in back), [true, false, true, false, true, false, false]);
  assert.equal(back[4], 5);
});

test("sparse arrays cost their elements, not their length (up to 2^32-1)", () => {
  // Before: a one-element array of length 1e8 wrote 1e8 Hole tags (8.7 s).
  const a = [];
  a[50_000_000] = 7;
  a.length = 100_000_000;
  const bytes = encodeValue(a);
  assert.ok(bytes.length < 16, `${bytes.length} bytes`);
  const back = decodeValue(bytes);
  assert.equal(back.length, 100_000_000);
  assert.deepEqual(Object.keys(back), ["50000000"]);
  assert.equal(back[50_000_000], 7);
  // The largest array length, with shared objects inside.
  const o = { x: 1 };
  const b = [o];
  b[4294967294] = o;
  b[1000] = b;
  const back2 = rt(b);
  assert.equal(back2.length, 4294967295);
  assert.deepEqual(Object.keys(back2), ["0", "1000", "4294967294"]);
  assert.equal(back2[0], back2[4294967294], "shared object stays shared");
  assert.equal(back2[1000], back2, "the array contains itself");
  // A run of 15 holes stays an Array (Hole tags), 16 make a SparseArray.
  const tag = (arr) => encodeValue(arr)[0];
  const run = (n) => { const x = [1]; x.length = n + 1; x.push(2); return x; };
  assert.equal(tag(run(15)), 12);
  assert.equal(tag(run(16)), 21);
  assert.deepEqual(Object.keys(rt(run(16))), ["0", "17"]);
  assert.equal(rt(new Array(20)).length, 20);
});

test("an encode stops at maxMessage, before the work where the work alone would pass it", () => {
  const limit = 1000;
  const tooLarge = (e) => e instanceof WireError && /exceeds maxMessage \(1000 bytes\)/.test(e.message);
  // Dense data past the limit: refused as the buffer passes it.
  assert.throws(() => encodeValue(Array.from({ length: 2000 }, (_, i) => i), null, false, null, limit), tooLarge);
  assert.throws(() => encodeValue("x".repeat(2000), null, false, null, limit), tooLarge);
  assert.equal(decodeValue(encodeValue([1, 2, 3], null, false, null, limit)).length, 3);
  // A Proxy with Array.prototype and a lying length: it used to be read
  // element by element (still encoding after 30 s). Not a valid length:
  // refused; a huge valid one: only its own keys are read.
  let reads = 0;
  const liar = (length, keys = []) => new Proxy({}, {
    getPrototypeOf: () => Array.prototype,
    get: (t, k) => (k === "length" ? length : (reads++, 1)),
    has: () => true,
    ownKeys: () => keys,
    getOwnPropertyDescriptor: (t, k) => (keys.includes(k) ? { value: 1, enumerable: true, configurable: true } : undefined),
  });
  assert.throws(() => encodeValue(liar(2 ** 53)), (e) => e instanceof WireError && /claims length 9007199254740992/.test(e.message));
  assert.throws(() => encodeValue(liar(-1)), (e) => e instanceof WireError && /claims length -1/.test(e.message));
  const empty = decodeValue(encodeValue(liar(2 ** 32 - 1), null, false, null, limit));
  assert.equal(empty.length, 2 ** 32 - 1);
  assert.deepEqual(Object.keys(empty), []);
  assert.equal(reads, 0, "no element was read");
  // More present elements than maxMessage can hold: refused before any is read.
  const many = Array.from({ length: 600 }, (_, i) => String(i * 10));
  assert.throws(() => encodeValue(liar(2 ** 32 - 1, many), null, false, null, limit), tooLarge);
  assert.equal(reads, 0, "refused before reading an element");
});

test("plain objects: key order, null prototype, __proto__ as a data key", () => {
  const o = Object.create(null);
  o.b = 1;
  o[2] = "two";
  o.a = { z: [] };
  Object.defineProperty(o, "__proto__", { value: 7, enumerable: true, configurable: true, writable: true });
  Object.defineProperty(o, "hidden", { value: 1, enumerable: false });
  const back = rt(o);
  assert.deepEqual(Object.keys(back), ["2", "b", "a", "__proto__"]);
  assert.equal(Object.getPrototypeOf(back), Object.prototype, "prototype not replaced");
  assert.equal(Object.getOwnPropertyDescriptor(back, "__proto__").value, 7);
  assert.deepEqual(back.a, { z: [] });
});

test("errors keep class, name, message, stack, cause and own props", () => {
  const cause = new RangeError("inner");
  const e = new TypeError("outer", { cause });
  e.code = "E_X";
  e.detail = { n: 1 };
  const back = rt(e);
  assert.ok(back instanceof TypeError);
  assert.equal(back.message, "outer");
  assert.equal(back.stack, e.stack);
  assert.ok(back.cause instanceof RangeError);
  assert.equal(back.cause.stack, cause.stack);
  assert.equal(back.code, "E_X");
  assert.deepEqual(back.detail, { n: 1 });
  assert.deepEqual(Object.keys(back), ["code", "detail"]);

  class MyError extends Error {
    constructor(m) {
      super(m);
      this.name = "MyError";
    }
  }
  const mine = rt(new MyError("custom"));
  assert.ok(mine instanceof Error);
  assert.equal(mine.name, "MyError");
  assert.equal(mine.message, "custom");
  assert.match(mine.stack, /^MyError: custom/);
  assert.deepEqual(Object.keys(mine), [], "name is not an extra prop");

  const agg = rt(new AggregateError([], "many"));
  assert.ok(agg instanceof AggregateError);

  const noCause = rt(new Error("x"));
  assert.ok(!("cause" in noCause));
  const undefCause = rt(new Error("x", { cause: undefined }));
  assert.ok("cause" in undefCause, "an explicit undefined cause is kept");
  assert.equal(undefCause.cause, undefined);

  const noStack = new Error("no stack");
  delete noStack.stack;
  assert.equal(rt(noStack).stack, undefined, "no stack invented at the receiver");
});

test("thrown non-Error values travel as values in a reply", () => {
  for (const thrown of ["oops", 42, null, undefined, { code: 1 }, [1, 2]]) {
    const msg = decodeMessage(encodeMessage({ t: "reply", seq: 9, ok: false, value: thrown, releases: [] }));
    assert.equal(msg.ok, false);
    assert.deepEqual(msg.value, thrown);
  }
});

test("by value vs by reference, functions, class instances and proxies", () => {
  const refs = loopbackRefs();
  const fn = () => 1;
  class Point { constructor() { this.x = 1; } }
  const p = new Point();
  const back = rt({ fn, p, plain: { x: 1 } }, refs);
  assert.equal(back.fn, fn, "functions go by reference");
  assert.equal(back.p, p, "class instances go by reference");
  assert.notEqual(back.plain, undefined);
  // A proxy of the peer's array goes home as Local, not copied.
  const proxyArr = [1, 2, 3];
  refs.markProxy(proxyArr, 42);
  const bytes = encodeValue([proxyArr], refs);
  assert.equal(hex(bytes), "0c01122a");
  // By reference: every object is a Remote, same id for the same object.
  const obj = { x: 1 };
  const r1 = encodeValue(obj, refs, true);
  const r2 = encodeValue(obj, refs, true);
  assert.equal(r1[0], 17);
  assert.deepEqual(r1, r2);
  assert.equal(decodeValue(r1, refs), obj);
  assert.equal(hex(encodeValue(5, refs, true)), "030a", "primitives are copied by reference too");
  // Without refs, a function cannot be sent, and the error says so.
  assert.throws(() => encodeValue(fn), (e) => e instanceof WireError && /refs/.test(e.message));
  assert.throws(() => encodeValue(Symbol("s")), WireError);
  // Messages: a reply's byRef flag picks the mode.
  const reply = decodeMessage(encodeMessage({ t: "reply", seq: 1, ok: true, value: obj, byRef: true, releases: [] }, refs), refs);
  assert.equal(reply.value, obj);
});

test("messages: every op, keys and well-known symbols", () => {
  const refs = loopbackRefs();
  const ops = [
    { t: "get", key: "title" }, { t: "set", key: "x", value: 1 }, { t: "has", key: Symbol.iterator },
    { t: "delete", key: "\uD800" }, { t: "own_keys" }, { t: "get_own_property_descriptor", key: Symbol.toStringTag },
    { t: "define_property", key: "v", descriptor: { value: 1, writable: true } }, { t: "get_prototype_of" },
    { t: "set_prototype_of", proto: null }, { t: "apply", this: undefined, args: [1, "a"] },
    { t: "construct", args: [] }, { t: "call", name: "compute", args: [1, 2] },
  ];
  for (const op of ops) {
    const msg = { t: "request", seq: 7, nestedIn: 3, target: 9, op, releases: [[1, 2]] };
    assert.deepEqual(decodeMessage(encodeMessage(msg, refs), refs), msg);
  }
  for (const msg of [{ t: "release", releases: [[5, 1], [6, 4000000000]] }, { t: "cancel", seq: 4294967295 }]) {
    assert.deepEqual(decodeMessage(encodeMessage(msg)), msg);
  }
  assert.throws(() => encodeMessage({ t: "request", seq: 1, op: { t: "get", key: Symbol("mine") } }), WireError);
  assert.throws(() => encodeMessage({ t: "request", seq: -1, op: { t: "own_keys" } }), WireError);
  assert.throws(() => encodeMessage({ t: "bogus" }), WireError);
  assert.throws(() => encodeMessage({ t: "request", seq: 1, op: { t: "nope" } }), WireError);
});

test("the described prefix (docs/protocol.md §3 \"Folded into the reply\"): on get, apply, construct; its reply", () => {
  const refs = loopbackRefs();
  for (const op of [{ t: "get", key: "body" }, { t: "apply", this: undefined, args: [1] }, { t: "construct", args: [] }]) {
    const bytes = encodeMessage({ t: "request", seq: 2, nestedIn: 0, target: 5, op, described: true, releases: [] }, refs);
    assert.equal(bytes[4], 13, "the prefix comes where the op's variant would");
    assert.equal(bytes[5], { get: 0, apply: 9, construct: 10 }[op.t]);
    const back = decodeMessage(bytes, refs);
    assert.deepEqual(back.op, { ...op, described: true });
    // Without the flag: no prefix, no `described` in what is decoded.
    assert.equal(decodeMessage(encodeMessage({ t: "request", seq: 2, target: 5, op, releases: [] }, refs), refs).op.described, undefined);
  }
  assert.throws(() => encodeMessage({ t: "request", seq: 1, op: { t: "set", key: "x", value: 1 }, described: true }, refs),
    (e) => e instanceof WireError && /described prefix goes before a get, apply or construct, not set/.test(e.message));
  // The reply: [value by reference, snapshot or null, (apply) the receiver's chain by reference or null].
  class Thing { constructor() { this.n = 1; } }
  const value = new Thing();
  const snap = [[Thing, Thing.prototype, Object.prototype], { ctor: true, ctorName: "Thing" }, ["n"], ["constructor"], ["toString"], ["n", 1, 7]];
  const chain = [Thing.prototype, Object.prototype, null];
  const reply = decodeMessage(encodeMessage({ t: "reply", seq: 2, ok: true, value: [value, snap, chain], byRef: "described", releases: [] }, refs), refs);
  assert.equal(reply.value.length, 3);
  assert.equal(reply.value[0], value, "the value by reference");
  assert.equal(reply.value[1][0][1], Thing.prototype, "the snapshot's chain by reference");
  assert.deepEqual(reply.value[1].slice(1), snap.slice(1), "the rest of the snapshot by value");
  assert.equal(reply.value[2][0], Thing.prototype);
  assert.equal(reply.value[2][1], Object.prototype);
  assert.equal(reply.value[2][2], null);
  const plain = decodeMessage(encodeMessage({ t: "reply", seq: 2, ok: true, value: [5, null], byRef: "described", releases: [] }, refs), refs);
  assert.deepEqual(plain.value, [5, null]);
});

test("encodeMessageView returns a view reused by the next encode; encodeMessage a copy", () => {
  const a = encodeMessage({ t: "cancel", seq: 1 });
  const v = encodeMessageView({ t: "cancel", seq: 2 });
  assert.equal(hex(v), "0302");
  encodeMessage({ t: "cancel", seq: 3 });
  assert.equal(hex(v), "0303", "the view sees the next encode");
  assert.equal(hex(a), "0301", "the copy does not");
});

test("nesting: 512 containers pass, 513 are refused both ways", () => {
  const nest = (n) => {
    let v = 0;
    for (let i = 0; i < n; i++) v = [v];
    return v;
  };
  assert.equal(MAX_DEPTH, 512);
  let back = rt(nest(512));
  for (let i = 0; i < 512; i++) back = back[0];
  assert.equal(back, 0);
  assert.throws(() => encodeValue(nest(513)), (e) => e instanceof WireError && /512/.test(e.message));
  // Hand-built bytes 513 deep: the decoder refuses them too.
  const bytes = new Uint8Array(513 * 2 + 1);
  for (let i = 0; i < 513; i++) bytes.set([12, 1], i * 2);
  bytes[513 * 2] = 0;
  assert.throws(() => decodeValue(bytes), (e) => e instanceof WireError && /512/.test(e.message));
  assert.equal(decodeValue(bytes.subarray(2)).length, 1);
});

test("malformed inputs are refused with WireError, each for its reason", () => {
  // [hex, kind, what the error must say]
  const bad = [
    ["", "truncated", /truncated/],
    ["17", "unknown_variant", /unknown variant: Value 23/],
    ["15", "truncated", /truncated/],
    ["1505010500", "sparse_index", /sparse index: 5 after -1, length 5/],
    ["150902040004", "sparse_index", /sparse index: 4 after 4, length 9/],
    ["1509010013", "hole_outside_array", /hole outside array/],
    ["1604", "unknown_variant", /unknown variant: Symbol 4/],
    ["160015", "unknown_symbol", /unknown symbol: 21/],
    ["1602010200", "invalid_option", /invalid option: 2/],
    ["160301", "local_symbol", /local symbol: #1 names an object/],
    ["1400010d0000", "unknown_typed_array_kind", /unknown typed array kind: 13/],
    ["140001080408", "transferred_view_alignment", /transferred view alignment: Float64Array at 4, 8 bytes/],
    ["140201050006", "transferred_view_alignment", /transferred view alignment: Int32Array at 0, 6 bytes/],
    ["140002", "invalid_option", /invalid option: 2/],
    ["140000", "transferred_buffer", /transferred buffer: #0 of none/],
    ["0380808080800f", "varint_too_long", /varint too long/],
    ["03ffffffff1f", "varint_overflow", /varint overflow/],
    ["04000000", "truncated", /truncated: 8 bytes needed, 3 left/],
    ["0202", "invalid_bool", /invalid bool: 2/],
    ["0b0000000002", "invalid_option", /invalid option: 2/],
    ["060002c328", "invalid_utf8", /invalid utf8/],
    ["060103000000", "odd_utf16", /odd utf16: 3 bytes/],
    ["060200", "unknown_variant", /unknown variant: JsString 2/],
    ["0600056869", "length_too_large", /length too large: string of 5 bytes, 2 left/],
    ["080303010203", "typed_array_length", /typed array length: Int16Array of 3 bytes/],
    ["080d00", "unknown_typed_array_kind", /unknown typed array kind: 13/],
    ["13", "hole_outside_array", /hole outside array/],
    ["0d010001611300", "hole_outside_array", /hole outside array/],
    ["0c011001", "backref_out_of_range", /backref out of range: 1 of 1/],
    ["0500020100", "non_canonical_bigint", /non canonical bigint/],
    ["050100", "non_canonical_bigint", /non canonical bigint/],
    ["110301", "unknown_ref_kind", /unknown ref kind: 3/],
    ["0000", "trailing_bytes", /trailing bytes: 1/],
    ["0a0001280000", "invalid_regexp", /invalid regexp: /],
    ["0c05", "length_too_large", /length too large: array of 5 elements, 0 bytes left/],
  ];
  // The kind (bridge-core's DecodeErrorKind code where it has one) and the
  // detail the text gives.
  const refused = (kind, why) => (e) => e instanceof WireError && e.kind === kind &&
    new RegExp(`^malformed message at byte ${e.offset}: ${kind.replace(/_/g, " ")}`).test(e.message) && why.test(e.message);
  for (const [h, kind, why] of bad) {
    assert.throws(() => decodeValue(new Uint8Array(Buffer.from(h, "hex")), loopbackRefs()), refused(kind, why), `${h}: ${kind} ${why}`);
  }
  const badMsgs = [
    ["04", "unknown_variant", /unknown variant: Message 4/],
    ["000100000e", "unknown_variant", /unknown variant: Op 14/],
    ["000100000d04", "described_prefix", /described prefix: before own_keys/],
    ["01010200", "unknown_variant", /unknown variant: Outcome 2/],
    ["000100000002", "unknown_variant", /unknown variant: Key 2/],
    ["0001000000010015", "unknown_symbol", /unknown symbol: 21/],
    ["020201", "length_too_large", /length too large: release list of 2 elements/],
  ];
  for (const [h, kind, why] of badMsgs) {
    assert.throws(() => decodeMessage(new Uint8Array(Buffer.from(h, "hex"))), refused(kind, why), `${h}: ${kind} ${why}`);
  }
  assert.throws(() => decodeValue([0]), WireError, "not a Uint8Array");
});

// A small seeded PRNG so failures reproduce.
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function onlyWireErrors(bytes, decode, refs) {
  try {
    decode(bytes, refs);
  } catch (e) {
    if (!(e instanceof WireError)) {
      assert.fail(`non-WireError ${e?.name}: ${e?.message} for ${hex(bytes)}`);
    }
  }
}

test("random bytes and mutated messages throw WireError only", () => {
  const rand = rng(12345);
  const refs = loopbackRefs();
  refs.exportValue(function f() {}); // id 1 exists for importRemote
  for (let i = 0; i < 20000; i++) {
    const n = Math.floor(rand() * 40);
    const b = new Uint8Array(n);
    for (let j = 0; j < n; j++) b[j] = rand() < 0.6 ? Math.floor(rand() * 22) : Math.floor(rand() * 256);
    onlyWireErrors(b, decodeValue, refs);
    onlyWireErrors(b, decodeMessage, refs);
  }
  const e = new TypeError("t", { cause: 1 });
  e.code = 5;
  const seeds = [
    encodeValue({ a: [1, , "x\uD800", 2.5, -7n, new Date(0), /r/g, new Map([[1, new Set([2])]]), e, new Float64Array(2)] }),
    encodeMessage({ t: "request", seq: 1, nestedIn: 0, target: 0, op: { t: "call", name: "f", args: [{ x: [1, 2] }, "s"] }, releases: [[1, 1]] }),
    encodeMessage({ t: "reply", seq: 2, ok: false, value: e, releases: [] }),
  ];
  let refused = 0;
  for (const seed of seeds) {
    for (let i = 0; i < 5000; i++) {
      const b = seed.slice();
      const edits = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < edits; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      const cut = rand() < 0.2 ? b.subarray(0, Math.floor(rand() * b.length)) : b;
      try {
        (seed === seeds[0] ? decodeValue : decodeMessage)(cut, refs);
      } catch (err) {
        if (!(err instanceof WireError)) assert.fail(`non-WireError ${err?.name}: ${err?.message} for ${hex(cut)}`);
        refused++;
      }
    }
  }
  assert.ok(refused > 1000, `mutations are mostly refused (${refused})`);
});
