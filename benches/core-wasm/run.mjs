// Per-call cost of the protocol's hot path (numbering, the frame stack,
// reply matching, deadline check) driven from JS, three ways:
//   js       the JS code path bridge-js runs today (endpoint.js callBlocking /
//            waitReply, its frame arrays and reply stash, reproduced below
//            without the I/O so only the decisions are timed);
//   wasm     bridge-core's WorkerCore through raw `extern "C"` exports
//            (crates/bridge-core-wasm), across the JS<->wasm boundary;
//   wasm2js  the same wasm translated to JS by binaryen's wasm2js (the
//            artifact for pages whose CSP forbids compiling wasm).
// Plus the artifacts' sizes (raw, brotli) and their load time.
//
// Run: node benches/core-wasm/run.mjs   (builds with cargo + npm binaryen)
// A program that prints a table, not a test: compare the ratios of one run.

import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { brotliCompressSync, constants as zc } from "node:zlib";
import { fileURLToPath, pathToFileURL } from "node:url";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { transformSync } from "esbuild";

const root = fileURLToPath(new URL("../..", import.meta.url));
const out = join(root, "target", "core-wasm");
mkdirSync(out, { recursive: true });
const bin = (name) => join(root, "node_modules", ".bin", name);

// ------------------------------------------------------------------ build
execFileSync("cargo", ["build", "-q", "-p", "bridge-core-wasm", "--target", "wasm32-unknown-unknown",
  "--profile", "release-wasm"], { cwd: root, stdio: "inherit" });
const raw = join(root, "target/wasm32-unknown-unknown/release-wasm/bridge_core_wasm.wasm");
const wasmPath = join(out, "core.wasm");
execFileSync(bin("wasm-opt"), ["-Oz", "--strip-debug", "--strip-producers", raw, "-o", wasmPath]);
// wasm2js has no saturating float-to-int (Rust's `as` casts): lower them first.
const loweredPath = join(out, "core.lowered.wasm");
execFileSync(bin("wasm-opt"), ["--enable-nontrapping-float-to-int", "--llvm-nontrapping-fptoint-lowering",
  "-Oz", wasmPath, "-o", loweredPath]);
const w2jPath = join(out, "core.wasm2js.mjs");
execFileSync(bin("wasm2js"), [loweredPath, "-Oz", "-o", w2jPath]);
const w2jMin = transformSync(readFileSync(w2jPath, "utf8"), { minify: true, format: "esm" }).code;
const w2jMinPath = join(out, "core.wasm2js.min.mjs");
writeFileSync(w2jMinPath, w2jMin);

const br = (buf) => brotliCompressSync(buf, { params: { [zc.BROTLI_PARAM_QUALITY]: 11 } }).length;
const wasmBytes = readFileSync(wasmPath);

// ------------------------------------------------------------------ load
// Compile + instantiate (wasm) or import (wasm2js), the median of 7 fresh loads.
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const loads = { wasm: [], wasm2js: [] };
let instance;
let w2j;
for (let i = 0; i < 7; i++) {
  let t = performance.now();
  instance = new WebAssembly.Instance(new WebAssembly.Module(wasmBytes), {});
  loads.wasm.push(performance.now() - t);
  t = performance.now();
  w2j = await import(`${pathToFileURL(w2jMinPath).href}?${i}`);
  loads.wasm2js.push(performance.now() - t);
}
const wasmLoadMs = median(loads.wasm);
const w2jLoadMs = median(loads.wasm2js);

// ------------------------------------------------------------------ the JS path
// endpoint.js's decisions for a blocking call, minus encode/send/recv:
// nextSeq, frame push, the stash check, the abort check, the deadline,
// the reply's seq test (and frameSeq.includes for an outer reply), pop.
class JsFrames {
  constructor() {
    this.seq = 0;
    this.frameSeq = [];
    this.frameWhat = [];
    this.frameAbort = [];
    this.stash = new Map();
  }
  nextSeq() {
    const s = (this.seq + 1) >>> 0;
    this.seq = s === 0 ? 1 : s;
    return this.seq;
  }
  begin(label) {
    const seq = this.nextSeq();
    this.frameSeq.push(seq);
    this.frameWhat.push(label);
    this.frameAbort.push(null);
    return seq;
  }
  // One turn of waitReply's loop with `msg` received; returns the reply
  // for `seq`, or undefined to keep waiting.
  turn(seq, depth, deadline, now, msg) {
    if (this.stash.size !== 0) {
      const early = this.stash.get(seq);
      if (early !== undefined) {
        this.stash.delete(seq);
        return early;
      }
    }
    if (this.frameAbort[depth - 1] !== null) throw this.frameAbort[depth - 1];
    if (deadline !== 0 && deadline - now <= 0) throw new Error("timed out");
    if (msg === null) return undefined;
    if (msg.t === "reply") {
      if (msg.seq === seq) return msg;
      if (this.frameSeq.includes(msg.seq)) this.stash.set(msg.seq, msg);
      return undefined;
    }
    if (msg.t === "request" && msg.nestedIn !== 0 && this.frameSeq.includes(msg.nestedIn)) return "serve";
    return undefined;
  }
  end() {
    this.frameSeq.pop();
    this.frameWhat.pop();
    this.frameAbort.pop();
  }
}

// ------------------------------------------------------------------ scenarios
// flat: one call, its reply, done. nested: an outer call; a request nested
// into it; an inner call made by its handler; the OUTER reply first (kept),
// then the inner reply; the served request finishes; the outer call returns
// its kept reply.
function jsFlat(n) {
  const f = new JsFrames();
  const reply = { t: "reply", seq: 0, value: 1 };
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const now = i;
    const seq = f.begin("f");
    reply.seq = seq;
    const r = f.turn(seq, f.frameSeq.length, now + 30_000, now, reply);
    f.end();
    sum += r.value;
  }
  return sum;
}

function jsNested(n) {
  const f = new JsFrames();
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const now = i;
    const outer = f.begin("outer");
    const req = { t: "request", seq: i + 1, nestedIn: outer };
    if (f.turn(outer, 1, now + 30_000, now, req) !== "serve") throw new Error("not served");
    const inner = f.begin("inner");
    const outerReply = { t: "reply", seq: outer, value: 2 };
    if (f.turn(inner, 2, now + 30_000, now, outerReply) !== undefined) throw new Error("taken");
    const r1 = f.turn(inner, 2, now + 30_000, now, { t: "reply", seq: inner, value: 1 });
    f.end();
    const r2 = f.turn(outer, 1, now + 30_000, now, null);
    f.end();
    sum += r1.value + r2.value;
  }
  return sum;
}

function wasmFlat(x, n) {
  const m = x.wb_worker_new();
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const now = i;
    const seq = x.wb_begin_call(m, now, 30_000);
    x.wb_on_reply(m, seq, 1);
    if (x.wb_poll(m, seq, now) !== 1) throw new Error("no reply");
    sum += x.wb_last_handle(m);
  }
  return sum;
}

function wasmNested(x, n) {
  const m = x.wb_worker_new();
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const now = i;
    const outer = x.wb_begin_call(m, now, 30_000);
    if (x.wb_on_request(m, i + 1, outer, 0) !== 1) throw new Error("not served");
    const inner = x.wb_begin_call(m, now, 30_000);
    x.wb_on_reply(m, outer, 2);
    if (x.wb_poll(m, inner, now) !== 0) throw new Error("taken");
    x.wb_on_reply(m, inner, 1);
    if (x.wb_poll(m, inner, now) !== 1) throw new Error("no inner reply");
    sum += x.wb_last_handle(m);
    x.wb_finish_serve(m, i + 1);
    if (x.wb_poll(m, outer, now) !== 1) throw new Error("no outer reply");
    sum += x.wb_last_handle(m);
  }
  return sum;
}

const wasm = instance.exports;
const runs = {
  "flat call": { js: (n) => jsFlat(n), wasm: (n) => wasmFlat(wasm, n), wasm2js: (n) => wasmFlat(w2j, n) },
  "nested, outer reply first": { js: (n) => jsNested(n), wasm: (n) => wasmNested(wasm, n), wasm2js: (n) => wasmNested(w2j, n) },
};

const N = Number(process.env.CORE_WASM_CALLS || 200_000);
const ROUNDS = Number(process.env.CORE_WASM_ROUNDS || 7);
// Interleaved rounds: js, wasm, wasm2js, js, ... so drift hits all alike.
const rows = [];
for (const [name, impls] of Object.entries(runs)) {
  for (const f of Object.values(impls)) f(10_000); // warm up
  const times = { js: [], wasm: [], wasm2js: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [impl, f] of Object.entries(impls)) {
      const t0 = performance.now();
      f(N);
      times[impl].push(((performance.now() - t0) * 1e6) / N);
    }
  }
  const js = median(times.js);
  rows.push({
    scenario: name,
    "js ns/call": js.toFixed(0),
    "wasm ns/call": median(times.wasm).toFixed(0),
    "wasm2js ns/call": median(times.wasm2js).toFixed(0),
    "wasm / js": (median(times.wasm) / js).toFixed(2),
    "wasm2js / js": (median(times.wasm2js) / js).toFixed(2),
  });
}
console.log(`node ${process.version}, ${N} calls x ${ROUNDS} interleaved rounds, median ns per call (the clock is the loop index: only the decisions are timed)`);
console.table(rows);
console.table([
  { artifact: "core.wasm (wasm-opt -Oz)", bytes: wasmBytes.length, brotli: br(wasmBytes), "load ms": wasmLoadMs.toFixed(2) },
  { artifact: "core.wasm2js.min.mjs (esbuild minify)", bytes: Buffer.byteLength(w2jMin), brotli: br(Buffer.from(w2jMin)), "load ms": w2jLoadMs.toFixed(2) },
]);
