// Wire codec speed for a few message shapes: `node test/bench-wire.mjs`.
// Prints a table; information, not a test (shared machines are noisy, so
// compare figures taken in one run).

import { encodeMessage, encodeMessageView, decodeMessage } from "../src/wire.js";

const refs = {
  exportValue: () => ({ kind: 0, id: 1 }),
  importRemote: () => null,
  importLocal: () => null,
};

const call = (...args) => ({ t: "request", seq: 1, nestedIn: 0, target: 0, op: { t: "call", name: "compute", args }, releases: [] });
const reply = (value) => ({ t: "reply", seq: 1, ok: true, value, releases: [] });

const ascii64k = "abcdefghijklmnop".repeat(4096);
const nonAscii64k = "héllo wörld ".repeat(5462).slice(0, 65536);
const records = Array.from({ length: 100 }, (_, i) => ({ id: i, name: `item ${i}`, score: i * 1.5, tags: ["a", "b"] }));

const shapes = [
  ["call(1, 2)", call(1, 2)],
  ["reply undefined", reply(undefined)],
  ["get 'title'", { t: "request", seq: 5, nestedIn: 0, target: 3, op: { t: "get", key: "title" }, releases: [] }],
  ["call('x' * 20, 3.5, true)", call("x".repeat(20), 3.5, true)],
  ["call(64 KiB ASCII)", call(ascii64k)],
  ["reply 64 KiB ASCII", reply(ascii64k)],
  ["call(64 KiB non-ASCII)", call(nonAscii64k)],
  ["call(64 KiB lone surrogates)", call("a\uD800".repeat(32768))],
  ["reply 100 records", reply(records)],
  ["reply 1000 short strings", reply(Array.from({ length: 1000 }, (_, i) => `str${i}`))],
  ["reply Float64Array 1 MiB", reply(new Float64Array(131072).fill(1.25))],
  ["reply 10k ints", reply(Array.from({ length: 10000 }, (_, i) => i * 7))],
];

// CPU time of this process when Node can tell it: on a shared, loaded
// machine wall time also counts the time spent waiting for a core.
const cpuMs = typeof process !== "undefined" && process.cpuUsage
  ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; }
  : () => performance.now();

function time(fn, minMs = 150) {
  for (let i = 0; i < 200; i++) fn(); // warm up the JIT
  let n = 0;
  let batch = 1;
  const t0 = cpuMs();
  let el = 0;
  while (el < minMs) {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
    batch *= 2;
    el = cpuMs() - t0;
  }
  return (el * 1e6) / n; // ns per call
}

const rows = [];
for (const [name, msg] of shapes) {
  const bytes = encodeMessage(msg, refs);
  const encView = time(() => encodeMessageView(msg, refs));
  const encCopy = time(() => encodeMessage(msg, refs));
  const dec = time(() => decodeMessage(bytes, refs));
  const mbps = (ns) => (bytes.length / ns * 1e3).toFixed(0); // bytes/ns * 1000 = MB/s
  rows.push([name, String(bytes.length), encView.toFixed(0), encCopy.toFixed(0), dec.toFixed(0), mbps(encView), mbps(dec)]);
}

const head = ["shape", "bytes", "enc view ns", "enc copy ns", "dec ns", "enc MB/s", "dec MB/s"];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
console.log(`node ${process.version}; times are CPU time per call`);
console.log(line(head));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const r of rows) console.log(line(r));
