// The JS codec against the golden vectors shared with the Rust tests
// (tests/vectors/README.md describes the Desc format). Missing vector files
// are a failure, not a skip: they are the one source of truth.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { encodeValue, decodeValue, encodeMessage, decodeMessage, WireError, SYMBOL_KIND } from "../src/wire.js";
import { WELL_KNOWN_SYMBOLS } from "../src/protocol.js";

// A transfer record (wire.js) whose buffers the test lists itself, in order.
const moving = (buffers) => ({ move: true, buffers, marked: [] });

const VECTORS = new URL("../../tests/vectors/", import.meta.url);

function load(name) {
  let text;
  try {
    text = readFileSync(new URL(name, VECTORS), "utf8");
  } catch (e) {
    throw new Error(`golden vectors tests/vectors/${name} missing (${e.code}); generate them with UPDATE_VECTORS=1 cargo test -p bridge-core --test vectors`);
  }
  const list = JSON.parse(text);
  assert.ok(Array.isArray(list) && list.length > 0, `tests/vectors/${name} holds no vectors`);
  return list;
}

const TYPED = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array",
  "Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array",
  "BigInt64Array", "BigUint64Array", "DataView", "Float16Array"];
const REF_KINDS = ["function", "object", "array"];
const STANDARD_ERRORS = ["Error", "EvalError", "RangeError", "ReferenceError",
  "SyntaxError", "TypeError", "URIError", "AggregateError"];

const hex = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
const fromHex = (h) => new Uint8Array(Buffer.from(h, "hex"));

// A fake refs table: tokens stand for proxies (Remote from the peer, Local =
// a proxy of the receiver's object). A remote array token is a real array, as
// a proxy over an array target would be, so by-value encoding must ask
// isProxy before copying it.
function fakeRefs() {
  const info = new Map(); // token -> { remote: [kind, id] } | { local: id }
  const cache = new Map();
  function token(key, make, meta) {
    let t = cache.get(key);
    if (!t) {
      t = make();
      cache.set(key, t);
      info.set(t, meta);
    }
    return t;
  }
  return {
    info,
    isProxy: (o) => info.has(o),
    exportValue(o) {
      const m = info.get(o);
      if (!m) throw new Error("test refs: exportValue of an unexpected object");
      return m.local !== undefined ? { local: m.local } : { kind: m.remote[0], id: m.remote[1] };
    },
    importRemote: (kind, id, description) => token(`r${kind}:${id}`,
      () => (kind === SYMBOL_KIND ? Symbol(description) : kind === 0 ? function remoteFn() {} : kind === 2 ? [] : new (class RemoteObject {})()),
      { remote: [kind, id] }),
    importLocal: (id) => token(`l${id}`, () => new (class LocalObject {})(), { local: id }),
    // A unique symbol of ours that the peer names by `id` (made before the
    // decode asks importLocal for it).
    localSymbol: (id) => token(`l${id}`, () => Symbol(`local ${id}`), { local: id }),
  };
}

function jsStr(d) {
  return typeof d === "string" ? d : String.fromCharCode(...d.units);
}

function strDesc(d) {
  return d.units !== undefined ? { units: d.units } : d.v;
}

// Builds the JS value a sender would hold for a Desc. `ctx.objs` follows the
// wire's pre-order object numbering so BackRef can point at earlier objects.
function fromDesc(d, ctx) {
  const reg = (o) => (ctx.objs.push(o), o);
  switch (d.t) {
    case "undefined": return undefined;
    case "null": return null;
    case "bool": return d.v;
    case "int": return d.v;
    case "float": return Number(d.v);
    case "bigint": return BigInt(d.v);
    case "string": return jsStr(strDesc(d));
    case "arraybuffer": return reg(fromHex(d.hex).buffer);
    case "typedarray": {
      const Ctor = globalThis[d.kind];
      if (typeof Ctor !== "function") throw new MissingRuntimeFeature(d.kind);
      return reg(new Ctor(fromHex(d.hex).buffer));
    }
    case "date": return reg(new Date(Number(d.v)));
    case "regexp": return reg(new RegExp(jsStr(d.source), d.flags));
    case "error": {
      const name = jsStr(d.name);
      const message = jsStr(d.message);
      let e;
      if (name === "AggregateError") e = new AggregateError([], message);
      else if (STANDARD_ERRORS.includes(name)) e = new globalThis[name](message);
      else {
        e = new Error(message);
        e.name = name;
      }
      if (d.stack === null) delete e.stack;
      else Object.defineProperty(e, "stack", { value: jsStr(d.stack), writable: true, configurable: true });
      reg(e);
      if (d.cause !== null) {
        Object.defineProperty(e, "cause", { value: fromDesc(d.cause, ctx), writable: true, configurable: true });
      }
      for (const [k, v] of d.props) e[jsStr(k)] = fromDesc(v, ctx);
      return e;
    }
    case "array": {
      const a = reg([]);
      for (const item of d.items) {
        if (item.t === "hole") a.length++;
        else a.push(fromDesc(item, ctx));
      }
      return a;
    }
    case "sparse": {
      const a = reg([]);
      for (const [i, v] of d.entries) a[i] = fromDesc(v, ctx);
      a.length = d.length;
      return a;
    }
    case "object": {
      const o = reg({});
      for (const [k, v] of d.entries) {
        Object.defineProperty(o, jsStr(k), { value: fromDesc(v, ctx), writable: true, enumerable: true, configurable: true });
      }
      return o;
    }
    case "map": {
      const m = reg(new Map());
      for (const [k, v] of d.entries) {
        const key = fromDesc(k, ctx);
        m.set(key, fromDesc(v, ctx));
      }
      return m;
    }
    case "set": {
      const s = reg(new Set());
      for (const v of d.items) s.add(fromDesc(v, ctx));
      return s;
    }
    case "backref": {
      assert.ok(d.index < ctx.objs.length, `vector BackRef(${d.index}) points forward`);
      return ctx.objs[d.index];
    }
    case "remote": return ctx.refs.importRemote(REF_KINDS.indexOf(d.kind), d.id);
    case "local": return ctx.refs.importLocal(d.id);
    case "symbol": return symFromDesc(d.symbol, ctx.refs);
    case "transferred": {
      // The buffers that travel beside the message: entry d.buffer of them.
      while (ctx.buffers.length <= d.buffer) ctx.buffers.push(new ArrayBuffer(2048));
      const buf = ctx.buffers[d.buffer];
      if (d.view === null) return reg(buf);
      const i = TYPED.indexOf(d.view.kind);
      const Ctor = globalThis[d.view.kind];
      const size = [1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8, 1, 2][i];
      return reg(new Ctor(buf, d.view.byte_offset, d.view.byte_length / size));
    }
    default: throw new Error(`unknown Desc ${JSON.stringify(d)}`);
  }
}

// The vectors name each well-known number (bridge-core's table): protocol.js
// must hold the same name at that number.
function wellKnown(s) {
  assert.equal(WELL_KNOWN_SYMBOLS[s.v], s.name, `protocol.js WELL_KNOWN_SYMBOLS[${s.v}]`);
  const sym = Symbol[s.name];
  if (typeof sym !== "symbol") throw new MissingRuntimeFeature(`Symbol.${s.name}`);
  return sym;
}

function symFromDesc(s, refs) {
  switch (s.t) {
    case "well_known": return wellKnown(s);
    case "registered": return Symbol.for(jsStr(s.key));
    case "remote": return refs.importRemote(SYMBOL_KIND, s.id, s.description === null ? undefined : jsStr(s.description));
    case "local": return refs.localSymbol(s.id);
    default: throw new Error(`unknown symbol Desc ${JSON.stringify(s)}`);
  }
}

function checkSym(s, v, refs, at) {
  assert.equal(typeof v, "symbol", `${at}: a symbol`);
  switch (s.t) {
    case "well_known": assert.equal(v, wellKnown(s), at); return;
    case "registered": assert.equal(Symbol.keyFor(v), jsStr(s.key), `${at}: Symbol.for(${jsStr(s.key)})`); return;
    case "remote":
      assert.deepEqual(refs.info.get(v), { remote: [SYMBOL_KIND, s.id] }, at);
      assert.equal(v.description, s.description === null ? undefined : jsStr(s.description), `${at}.description`);
      assert.equal(Symbol.keyFor(v), undefined, `${at}: not registered`);
      return;
    case "local": assert.deepEqual(refs.info.get(v), { local: s.id }, at); return;
    default: throw new Error(`unknown symbol Desc ${JSON.stringify(s)}`);
  }
}

class MissingRuntimeFeature extends Error {
  constructor(what) {
    super(`this runtime lacks ${what}`);
    this.what = what;
  }
}

// Asserts that a decoded JS value is what the Desc describes, with identity
// for BackRef (same pre-order numbering as fromDesc).
function check(d, v, ctx, path) {
  const at = `${ctx.name} ${path}`;
  const reg = () => ctx.objs.push(v);
  switch (d.t) {
    case "undefined": assert.equal(v, undefined, at); return;
    case "null": assert.equal(v, null, at); return;
    case "bool": assert.equal(v, d.v, at); return;
    case "int": case "float": case "date": {
      const want = d.t === "int" ? d.v : Number(d.v);
      if (d.t === "date") {
        assert.ok(v instanceof Date, `${at}: a Date`);
        reg();
        v = v.getTime();
      }
      assert.equal(typeof v, "number", at);
      assert.ok(Object.is(v, want), `${at}: ${v} is not ${want}`);
      return;
    }
    case "bigint": assert.equal(v, BigInt(d.v), at); return;
    case "string": assert.equal(v, jsStr(strDesc(d)), at); return;
    case "arraybuffer":
      assert.ok(v instanceof ArrayBuffer, `${at}: an ArrayBuffer`);
      assert.equal(hex(new Uint8Array(v)), d.hex, at);
      reg();
      return;
    case "typedarray":
      assert.equal(v.constructor.name, d.kind, at);
      assert.equal(hex(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)), d.hex, at);
      reg();
      return;
    case "regexp":
      assert.ok(v instanceof RegExp, `${at}: a RegExp`);
      assert.equal(v.source, jsStr(d.source), at);
      assert.equal(v.flags, d.flags, at);
      reg();
      return;
    case "error": {
      const name = jsStr(d.name);
      assert.ok(v instanceof Error, `${at}: an Error`);
      assert.equal(v.name, name, `${at}.name`);
      assert.equal(v.message, jsStr(d.message), `${at}.message`);
      if (STANDARD_ERRORS.includes(name)) assert.equal(Object.getPrototypeOf(v), globalThis[name].prototype, `${at}: a ${name}`);
      else assert.equal(Object.getPrototypeOf(v), Error.prototype, at);
      if (d.stack === null) assert.notEqual(typeof v.stack, "string", `${at}: no stack`);
      else assert.equal(v.stack, jsStr(d.stack), `${at}.stack`);
      reg();
      if (d.cause === null) assert.ok(!("cause" in v), `${at}: no cause`);
      else check(d.cause, v.cause, ctx, `${path}.cause`);
      const keys = Object.keys(v).filter((k) => !["name", "message", "stack", "cause"].includes(k));
      assert.deepEqual(keys, d.props.map(([k]) => jsStr(k)), `${at} props`);
      d.props.forEach(([k, pv]) => check(pv, v[jsStr(k)], ctx, `${path}.${jsStr(k)}`));
      return;
    }
    case "array":
      assert.ok(Array.isArray(v), `${at}: an array`);
      assert.equal(v.length, d.items.length, `${at}.length`);
      reg();
      d.items.forEach((item, i) => {
        if (item.t === "hole") assert.ok(!(i in v), `${at}[${i}] is a hole`);
        else {
          assert.ok(i in v, `${at}[${i}] is not a hole`);
          check(item, v[i], ctx, `${path}[${i}]`);
        }
      });
      return;
    case "sparse": {
      assert.ok(Array.isArray(v), `${at}: an array`);
      assert.equal(v.length, d.length, `${at}.length`);
      reg();
      // Only the present elements: the length may be 2^32-1.
      assert.deepEqual(Object.keys(v), d.entries.map(([i]) => String(i)), `${at}: the present indices`);
      d.entries.forEach(([i, item]) => check(item, v[i], ctx, `${path}[${i}]`));
      return;
    }
    case "object":
      assert.equal(Object.getPrototypeOf(v), Object.prototype, `${at}: a plain object`);
      assert.deepEqual(Object.keys(v), d.entries.map(([k]) => jsStr(k)), `${at} keys`);
      reg();
      d.entries.forEach(([k, ev]) => check(ev, v[jsStr(k)], ctx, `${path}.${jsStr(k)}`));
      return;
    case "map": {
      assert.ok(v instanceof Map, `${at}: a Map`);
      assert.equal(v.size, d.entries.length, `${at}.size`);
      reg();
      const entries = [...v];
      d.entries.forEach(([k, ev], i) => {
        check(k, entries[i][0], ctx, `${path}<key ${i}>`);
        check(ev, entries[i][1], ctx, `${path}<value ${i}>`);
      });
      return;
    }
    case "set": {
      assert.ok(v instanceof Set, `${at}: a Set`);
      assert.equal(v.size, d.items.length, `${at}.size`);
      reg();
      const items = [...v];
      d.items.forEach((item, i) => check(item, items[i], ctx, `${path}<${i}>`));
      return;
    }
    case "backref":
      assert.equal(v, ctx.objs[d.index], `${at}: BackRef(${d.index}) keeps identity`);
      return;
    case "remote":
      assert.deepEqual(ctx.refs.info.get(v), { remote: [REF_KINDS.indexOf(d.kind), d.id] }, at);
      return;
    case "local":
      assert.deepEqual(ctx.refs.info.get(v), { local: d.id }, at);
      return;
    case "symbol":
      checkSym(d.symbol, v, ctx.refs, at);
      return;
    case "transferred": {
      const buf = ctx.buffers[d.buffer];
      assert.ok(buf instanceof ArrayBuffer, `${at}: transferred buffer #${d.buffer} came with the message`);
      if (d.view === null) {
        assert.equal(v, buf, `${at}: the transferred ArrayBuffer itself, not a copy`);
      } else {
        assert.equal(v.constructor.name, d.view.kind, at);
        assert.equal(v.buffer, buf, `${at}: a view over the transferred buffer, not a copy`);
        assert.equal(v.byteOffset, d.view.byte_offset, at);
        assert.equal(v.byteLength, d.view.byte_length, at);
      }
      reg();
      return;
    }
    default: throw new Error(`unknown Desc ${JSON.stringify(d)}`);
  }
}

function keyFromDesc(k, refs) {
  return k.t === "symbol" ? symFromDesc(k.symbol, refs) : jsStr(k.v);
}

const releasesOf = (r) => r.map(([id, count]) => [id, count]);

function msgFromDesc(m, ctx) {
  const f = (d) => fromDesc(d, ctx);
  switch (m.t) {
    case "request": {
      // The Described prefix: the request carries the flag, the op is the one it goes before.
      const described = m.op.t === "described";
      const o = described ? m.op.op : m.op;
      const op = { t: o.t };
      if (o.key !== undefined) op.key = keyFromDesc(o.key, ctx.refs);
      if (o.value !== undefined) op.value = f(o.value);
      if (o.descriptor !== undefined) op.descriptor = f(o.descriptor);
      if (o.proto !== undefined) op.proto = f(o.proto);
      if (o.this !== undefined) op.this = f(o.this);
      if (o.name !== undefined) op.name = jsStr(o.name);
      if (o.args !== undefined) op.args = o.args.map(f);
      return { t: "request", seq: m.seq, nestedIn: m.nested_in, target: m.target, op, described, releases: releasesOf(m.releases) };
    }
    case "reply":
      return { t: "reply", seq: m.seq, ok: m.outcome.t === "ok", value: f(m.outcome.value), releases: releasesOf(m.releases) };
    case "release":
      return { t: "release", releases: releasesOf(m.releases) };
    case "cancel":
      return { t: "cancel", seq: m.seq };
    default: throw new Error(`unknown MsgDesc ${m.t}`);
  }
}

function checkMsg(m, got, ctx) {
  assert.equal(got.t, m.t, `${ctx.name}: message type`);
  const c = (d, v, path) => check(d, v, ctx, path);
  switch (m.t) {
    case "request": {
      assert.equal(got.seq, m.seq);
      assert.equal(got.nestedIn, m.nested_in);
      assert.equal(got.target, m.target);
      assert.deepEqual(got.releases, releasesOf(m.releases));
      // The decoder marks an op that came after the Described prefix.
      const described = m.op.t === "described";
      const o = described ? m.op.op : m.op;
      assert.equal(got.op.t, o.t);
      assert.equal(got.op.described, described ? true : undefined, `${ctx.name}: described`);
      if (o.key !== undefined) {
        if (o.key.t === "symbol") checkSym(o.key.symbol, got.op.key, ctx.refs, `${ctx.name} key`);
        else assert.equal(got.op.key, keyFromDesc(o.key, ctx.refs));
      }
      if (o.value !== undefined) c(o.value, got.op.value, "value");
      if (o.descriptor !== undefined) c(o.descriptor, got.op.descriptor, "descriptor");
      if (o.proto !== undefined) c(o.proto, got.op.proto, "proto");
      if (o.this !== undefined) c(o.this, got.op.this, "this");
      if (o.name !== undefined) assert.equal(got.op.name, jsStr(o.name));
      if (o.args !== undefined) {
        assert.equal(got.op.args.length, o.args.length);
        o.args.forEach((a, i) => c(a, got.op.args[i], `args[${i}]`));
      }
      const fields = Object.keys(o).filter((k) => k !== "t").concat(described ? ["described"] : []);
      assert.deepEqual(Object.keys(got.op).filter((k) => k !== "t").sort(), fields.sort(), `${ctx.name}: op fields`);
      return;
    }
    case "reply":
      assert.equal(got.seq, m.seq);
      assert.equal(got.ok, m.outcome.t === "ok");
      c(m.outcome.value, got.value, "value");
      assert.deepEqual(got.releases, releasesOf(m.releases));
      return;
    case "release":
      assert.deepEqual(got.releases, releasesOf(m.releases));
      return;
    case "cancel":
      assert.equal(got.seq, m.seq);
      return;
  }
}

test("values.json: encode gives the exact bytes, decode gives the described value", () => {
  const vectors = load("values.json");
  let encoded = 0;
  const lacking = [];
  for (const { name, value, hex: want } of vectors) {
    const refs = fakeRefs();
    let js;
    const buffers = [];
    try {
      js = fromDesc(value, { objs: [], refs, buffers });
    } catch (e) {
      if (!(e instanceof MissingRuntimeFeature)) throw e;
      // Decoding must then refuse clearly, not hand back something else.
      assert.throws(() => decodeValue(fromHex(want), refs),
        (err) => err instanceof WireError && err.message.includes(e.what) && err.message.includes("lacks"), name);
      lacking.push(e.what);
      continue;
    }
    assert.equal(hex(encodeValue(js, refs, false, moving(buffers.slice()))), want, `encode ${name}`);
    encoded++;
    const back = decodeValue(fromHex(want), refs, buffers);
    check(value, back, { objs: [], refs, name, buffers }, "");
    // And the decoded value encodes to the same bytes again.
    assert.equal(hex(encodeValue(back, refs, false, moving(buffers.slice()))), want, `re-encode ${name}`);
  }
  // Only the newest features may be missing (Float16Array, the dispose symbols).
  assert.deepEqual(lacking.filter((w) => !/^(Float16Array|Symbol\.(async)?[dD]ispose)$/.test(w)), [], "runtime-dependent vectors");
  assert.ok(encoded >= vectors.length - 2);
});

test("messages.json: encode gives the exact bytes, decode gives the described message", () => {
  const vectors = load("messages.json");
  for (const { name, message, hex: want } of vectors) {
    const refs = fakeRefs();
    const buffers = [];
    const msg = msgFromDesc(message, { objs: [], refs, buffers });
    assert.equal(hex(encodeMessage(msg, refs, moving(buffers.slice()))), want, `encode ${name}`);
    const back = decodeMessage(fromHex(want), refs, buffers);
    checkMsg(message, back, { objs: [], refs, name, buffers });
    // The encoder takes the Described prefix from the request, the decoder
    // marks it on the op (endpoint.js replies by the op's mark).
    if (back.t === "request" && back.op.described) back.described = true;
    assert.equal(hex(encodeMessage(back, refs, moving(buffers.slice()))), want, `re-encode ${name}`);
  }
});

test("decode.json: non-minimal and large enum variants and malformed messages decode as bridge-core decodes them", () => {
  const vectors = load("decode.json");
  const kinds = new Set();
  for (const { name, hex: h, message, kind, offset } of vectors) {
    const refs = fakeRefs();
    if (message !== undefined) {
      checkMsg(message, decodeMessage(fromHex(h), refs), { objs: [], refs, name, buffers: [] });
    } else {
      // The same kind at the same offset as bridge-core (the texts differ).
      assert.throws(() => decodeMessage(fromHex(h), refs), (e) => {
        assert.ok(e instanceof WireError, `${name}: ${e}`);
        assert.deepEqual({ kind: e.kind, offset: e.offset }, { kind, offset }, `${name}: ${e.message}`);
        assert.match(e.message, new RegExp(`at byte ${offset}: `), name);
        return true;
      }, name);
      kinds.add(kind);
    }
  }
  assert.ok(vectors.some((v) => v.message !== undefined));
  // Every kind of error bridge-core's decoder has (DecodeErrorKind and Invalid).
  assert.deepEqual([...kinds].sort(), [
    "backref_out_of_range", "described_prefix", "hole_outside_array", "invalid_bool", "invalid_option", "invalid_utf8",
    "length_too_large", "non_canonical_bigint", "odd_utf16", "sparse_index", "too_deep", "trailing_bytes",
    "transferred_view_alignment", "truncated", "typed_array_length", "unknown_ref_kind", "unknown_symbol",
    "unknown_typed_array_kind", "unknown_variant", "varint_overflow", "varint_too_long",
  ]);
});

// The Rust conversion of crates/bridge-wasm/src/convert.rs (feature
// `convert`, in bridge-js/pkg/full: `cargo xtask build`), measured against
// this codec by benches/codec/run.mjs: the same vectors, byte for byte.
async function loadConvert() {
  const dir = new URL("../pkg/full/", import.meta.url);
  const js = new URL("bridge_wasm.js", dir);
  const wasm = new URL("bridge_wasm_bg.wasm", dir);
  let pkg;
  try {
    pkg = await import(js);
    pkg.initSync({ module: readFileSync(wasm) });
  } catch (e) {
    throw new Error(`bridge-js/pkg/full is missing or stale (${e.message}); build it with \`cargo xtask build\``);
  }
  assert.equal(typeof pkg.convertEncodeValue, "function",
    "bridge-js/pkg/full lacks convertEncodeValue: rebuild it with `cargo xtask build` (feature `convert` is in `full`)");
  return pkg;
}

// Tags that need the endpoint's tables (references, transferred buffers):
// outside the wasm conversion, which must refuse them clearly.
// Symbols are refused there too (unique ones are references).
const needsTables = (d) => d.t === "remote" || d.t === "local" || d.t === "transferred" || d.t === "symbol" ||
  (d.items ?? []).some(needsTables) || (d.entries ?? []).some((e) => e.some((x) => typeof x === "object" && x !== null && x.t !== undefined && needsTables(x)));

test("values.json through the wasm conversion (Rust): same bytes, same values", async () => {
  const { convertEncodeValue, convertDecodeValue } = await loadConvert();
  let checked = 0;
  let refused = 0;
  for (const { name, value, hex: want } of load("values.json")) {
    const refs = fakeRefs();
    const buffers = [];
    let js;
    try {
      js = fromDesc(value, { objs: [], refs, buffers });
    } catch (e) {
      if (!(e instanceof MissingRuntimeFeature)) throw e;
      continue;
    }
    if (needsTables(value)) {
      // (Encoding is not checked: the test's stand-ins for proxies are plain
      // JS objects that the wasm side cannot tell from data.)
      assert.throws(() => convertDecodeValue(fromHex(want)), /wasm conversion covers plain data only/, `${name}: refused`);
      refused++;
      continue;
    }
    assert.equal(hex(convertEncodeValue(js)), want, `wasm encode ${name}`);
    const back = convertDecodeValue(fromHex(want));
    check(value, back, { objs: [], refs, name, buffers }, "");
    // And the JS codec writes the same bytes for what Rust built.
    assert.equal(hex(encodeValue(back, refs)), want, `JS re-encode of the wasm-decoded ${name}`);
    checked++;
  }
  assert.ok(checked >= 60, `only ${checked} vectors went through the wasm conversion`);
  assert.ok(refused >= 4, "the reference and transferred vectors were refused");
  assert.throws(() => convertEncodeValue({ f() {} }), /function can only cross as a reference/);
  assert.throws(() => convertEncodeValue(new (class Thing {})()), /only cross as a reference/);
});

test("every vector with one trailing byte, or one byte short, is refused with WireError", () => {
  for (const [file, decode] of [["values.json", decodeValue], ["messages.json", decodeMessage]]) {
    for (const { name, hex: h } of load(file)) {
      const bytes = fromHex(h);
      const longer = new Uint8Array(bytes.length + 1);
      longer.set(bytes);
      assert.throws(() => decode(longer, fakeRefs()), WireError, `${name} + trailing byte`);
      assert.throws(() => decode(bytes.subarray(0, bytes.length - 1), fakeRefs()), WireError, `${name} truncated`);
    }
  }
});
