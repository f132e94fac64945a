// JS or wasm conversion: one value <-> wire bytes, by bridge-js's JS codec
// (src/wire.js encodeValue/decodeValue) and by the Rust conversion in the
// wasm package (crates/bridge-wasm/src/convert.rs, feature `convert`:
// convertEncodeValue/convertDecodeValue), side by side in one process.
// Shared by the Node runner (run.mjs) and the Chromium page (page.html).

export function shapes() {
  const obj100 = {};
  for (let i = 0; i < 100; i++) obj100[`field${i}`] = i % 3 === 0 ? `v${i}` : i % 3 === 1 ? i * 1.5 : i;
  const f64 = new Float64Array((1 << 20) / 8);
  for (let i = 0; i < f64.length; i++) f64[i] = i * 0.25;
  const nested = [];
  for (let i = 0; i < 10; i++) {
    const a = [];
    for (let j = 0; j < 10; j++) a.push([i, j, i * j, [j, "x"]]);
    nested.push(a);
  }
  let s64 = "";
  while (s64.length < 65536) s64 += "abcdefghijklmnopqrstuvwxyz0123456789 héllo € ";
  s64 = s64.slice(0, 65536);
  return [
    ["small call args [i, 1]", [7, 1]],
    ["64 KiB string", s64],
    ["object, 100 fields", obj100],
    ["1 MiB Float64Array", f64],
    ["nested arrays (10x10x4, 500 values)", nested],
  ];
}

const now = () => performance.now();

// Runs `fn` in batches of `n` until a batch takes >= minMs, then takes
// `samples` batches; returns per-call times in microseconds.
function measure(fn, samples, minMs) {
  let n = 1;
  for (;;) {
    const t0 = now();
    for (let i = 0; i < n; i++) fn();
    const dt = now() - t0;
    if (dt >= minMs || n >= 1 << 20) break;
    n *= dt < minMs / 8 ? 8 : 2;
  }
  const out = [];
  for (let s = 0; s < samples; s++) {
    const t0 = now();
    for (let i = 0; i < n; i++) fn();
    out.push(((now() - t0) * 1000) / n);
  }
  out.sort((a, b) => a - b);
  return { median: out[out.length >> 1], min: out[0], max: out[out.length - 1] };
}

/**
 * `js`: { encodeValue, decodeValue }; `wasm`: { convertEncodeValue, convertDecodeValue }.
 * Returns rows { shape, op, bytes, js, wasm } (times in us per call).
 */
export function run(js, wasm, { smoke = false } = {}) {
  const samples = smoke ? 3 : 15;
  const minMs = smoke ? 2 : 20;
  const rows = [];
  for (const [shape, value] of shapes()) {
    const bytes = js.encodeValue(value, null);
    const wbytes = wasm.convertEncodeValue(value);
    // Same bytes both ways, or the comparison means nothing.
    if (bytes.length !== wbytes.length || !bytes.every((b, i) => b === wbytes[i])) {
      throw new Error(`${shape}: the JS codec and the wasm conversion write different bytes`);
    }
    // Interleave the two so that machine noise hits both alike.
    const encJs = measure(() => js.encodeValue(value, null), samples, minMs);
    const encWasm = measure(() => wasm.convertEncodeValue(value), samples, minMs);
    rows.push({ shape, op: "encode", bytes: bytes.length, js: encJs, wasm: encWasm });
    const decJs = measure(() => js.decodeValue(bytes, null), samples, minMs);
    const decWasm = measure(() => wasm.convertDecodeValue(bytes), samples, minMs);
    rows.push({ shape, op: "decode", bytes: bytes.length, js: decJs, wasm: decWasm });
  }
  return rows;
}

export function table(rows, title) {
  const f = (x) => (x < 10 ? x.toFixed(3) : x < 1000 ? x.toFixed(1) : x.toFixed(0)).padStart(8);
  const lines = [title,
    "| shape | op | bytes | JS median | JS min | JS max | wasm median | wasm min | wasm max | wasm/JS (median) |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"];
  for (const r of rows) {
    lines.push(`| ${r.shape} | ${r.op} | ${r.bytes} | ${f(r.js.median)} | ${f(r.js.min)} | ${f(r.js.max)} | ` +
      `${f(r.wasm.median)} | ${f(r.wasm.min)} | ${f(r.wasm.max)} | ${(r.wasm.median / r.js.median).toFixed(2)}x |`);
  }
  lines.push("(times in microseconds per call)");
  return lines.join("\n");
}
