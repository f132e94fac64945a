// A JSON description of any JS value that keeps what the wire must keep:
// types, -0, NaN, BigInt, every UTF-16 code unit (lone surrogates), typed array
// bytes, holes, shared references and cycles (as `ref` to a pre-order index),
// Error name/message/cause/own properties. Used on both sides of a call so a
// spec can compare what was sent with what arrived. Imported by pages and
// workers alike.

export function codeUnits(s) {
  if (s.length > 256) return { length: s.length, hash: hashUnits(s) };
  const out = [];
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
  return out;
}

function hashUnits(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function bytesOf(view) {
  return Array.from(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
}

export function describe(value) {
  const seen = new Map();
  const go = (v) => {
    switch (typeof v) {
      case "undefined":
        return { t: "undefined" };
      case "boolean":
        return { t: "boolean", v };
      case "number":
        return { t: "number", v: Object.is(v, -0) ? "-0" : String(v) };
      case "bigint":
        return { t: "bigint", v: v.toString() };
      case "string":
        return { t: "string", v: codeUnits(v) };
      case "symbol":
        return { t: "symbol", v: String(v.description) };
      case "function":
        return { t: "function" };
    }
    if (v === null) return { t: "null" };
    if (seen.has(v)) return { t: "ref", i: seen.get(v) };
    const i = seen.size;
    seen.set(v, i);
    const tag = Object.prototype.toString.call(v).slice(8, -1);
    if (v instanceof Error) {
      const props = Object.keys(v)
        .filter((k) => k !== "cause" && k !== "stack" && k !== "message" && k !== "name")
        .sort()
        .map((k) => [k, go(v[k])]);
      return {
        t: "Error",
        i,
        name: String(v.name),
        message: codeUnits(String(v.message)),
        cause: "cause" in v ? go(v.cause) : { t: "absent" },
        props,
      };
    }
    if (v instanceof Map) return { t: "Map", i, entries: [...v].map(([k, x]) => [go(k), go(x)]) };
    if (v instanceof Set) return { t: "Set", i, items: [...v].map(go) };
    if (v instanceof Date) return { t: "Date", i, v: String(v.getTime()) };
    if (v instanceof RegExp) return { t: "RegExp", i, source: codeUnits(v.source), flags: v.flags };
    if (v instanceof ArrayBuffer) return { t: "ArrayBuffer", i, bytes: Array.from(new Uint8Array(v)) };
    if (ArrayBuffer.isView(v)) return { t: tag, i, length: v.length ?? v.byteLength, bytes: bytesOf(v) };
    if (Array.isArray(v)) {
      const items = [];
      for (let k = 0; k < v.length; k++) items.push(k in v ? go(v[k]) : { t: "hole" });
      return { t: "Array", i, items };
    }
    const proto = Object.getPrototypeOf(v);
    // A null prototype is not part of the wire format (docs/protocol.md:
    // Object is its entries), so both kinds of plain object read the same.
    if (proto === null || proto === Object.prototype) {
      return { t: "Object", i, entries: Object.keys(v).map((k) => [codeUnits(k), go(v[k])]) };
    }
    return { t: "other", i, tag };
  };
  return go(value);
}

/** What a caught error looks like, JSON-friendly. */
export function errorInfo(e) {
  if (e instanceof Error || (e && typeof e === "object" && "message" in e)) {
    return { name: String(e.name), message: String(e.message), stack: String(e.stack ?? ""), isError: e instanceof Error };
  }
  return { thrown: describe(e) };
}
