// Values and payloads shared by the pages and the workers of the specs.

/** Every kind of value the wire carries by value, by name. */
export function makeValues() {
  const cycle = { name: "cycle" };
  cycle.self = cycle;
  const shared = { s: 1 };
  const err = new TypeError("typed failure", { cause: new Error("the cause") });
  err.code = "E_CODE";
  err.extra = { n: 1 };
  const bytes = new Uint8Array([0, 1, 2, 250, 255, 7, 8, 9]);
  const mapCycle = new Map();
  mapCycle.set("me", mapCycle);
  const values = [
    ["undefined", undefined],
    ["null", null],
    ["true", true],
    ["false", false],
    ["int", 42],
    ["negative int", -7],
    ["float", 3.25],
    ["-0", -0],
    ["NaN", NaN],
    ["Infinity", Infinity],
    ["-Infinity", -Infinity],
    ["2^31", 2 ** 31],
    ["2^53+2", 2 ** 53 + 2],
    ["bigint", 123456789012345678901234567890n],
    ["negative bigint", -(2n ** 70n)],
    ["0n", 0n],
    ["empty string", ""],
    ["ascii", "hello"],
    ["unicode", "héllo €𝄞"],
    ["lone high surrogate", "a\uD800b"],
    ["lone low surrogate", "\uDC00"],
    ["reversed pair", "\uDC00\uD800"],
    ["array", [1, "two", [3]]],
    ["sparse array", [1, , 3]], // eslint-disable-line no-sparse-arrays
    ["object", { a: 1, nested: { b: [true] } }],
    ["null-prototype object", Object.assign(Object.create(null), { x: 1 })],
    ["lone surrogate key", { "k\uD801": 1 }],
    ["map", new Map([[1, "one"], ["k", { v: 2 }], [{ objKey: true }, [1]]])],
    ["set", new Set([1, "a", 2n])],
    ["date", new Date(Date.UTC(2024, 1, 29, 12, 0, 0, 123))],
    ["invalid date", new Date(NaN)],
    ["regexp", /ab+c\/[x-z]/giu],
    ["sticky regexp", /x/y],
    ["Uint8Array", bytes],
    ["Uint8ClampedArray", new Uint8ClampedArray([0, 128, 255])],
    ["Int16Array", new Int16Array([-1, 2, -32768])],
    ["Float32Array", new Float32Array([0.5, -2])],
    ["Float64Array", new Float64Array([1.5, -0, NaN])],
    ["BigInt64Array", new BigInt64Array([-1n, 2n ** 62n])],
    ["subarray", bytes.subarray(2, 5)],
    ["DataView", new DataView(bytes.buffer, 1, 3)],
    ["ArrayBuffer", bytes.buffer.slice(0, 4)],
    ["cycle", cycle],
    ["shared references", [shared, shared, { again: shared }]],
    ["map cycle", mapCycle],
    ["error with cause and props", err],
    ["plain error", new Error("plain")],
    ["error inside object", { e: new RangeError("in object") }],
  ];
  return values;
}

export const MIB = 1024 * 1024;

/** A deterministic byte pattern. */
export function pattern(n, seed) {
  const u8 = new Uint8Array(n);
  for (let i = 0; i < n; i++) u8[i] = (i * 31 + seed * 7 + (i >>> 9)) & 255;
  return u8;
}

/**
 * A deterministic well-formed string of at least `n` UTF-16 code units
 * (1-, 2-, 3- and 4-byte UTF-8 characters mixed).
 */
export function bigString(n, seed) {
  const alphabet = ["a", "é", "€", "z", "\u{1D11E}", "0", " "];
  const chunks = [];
  let length = 0;
  let k = seed >>> 0;
  while (length < n) {
    let chunk = "";
    for (let j = 0; j < 1024; j++) {
      k = (Math.imul(k, 1103515245) + 12345) >>> 0;
      chunk += alphabet[k % alphabet.length];
    }
    chunks.push(chunk);
    length += chunk.length;
  }
  return chunks.join("");
}

/** FNV-1a over bytes. */
export function fnv(u8) {
  let h = 0x811c9dc5;
  for (let i = 0; i < u8.length; i++) {
    h ^= u8[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** FNV-1a over UTF-16 code units. */
export function fnvString(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
