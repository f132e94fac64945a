// What transfer() saves: a worker->main sync call carrying a 1 MiB / 8 MiB
// ArrayBuffer, moved (postMessage beside the mailbox) or copied (through the
// SharedArrayBuffer mailbox), Node worker_threads, same process.
//
//   node benches/codec/transfer.mjs            # 40 calls per row
//   node benches/codec/transfer.mjs --smoke    # 3 calls per row
//
// Prints a table (ms per call: median, min, max) and the copy/move ratio. The
// numbers are for a shared, noisy machine: compare the ratio, not absolutes.
import { BridgeWorker } from "../../bridge-js/src/main.js";

const smoke = process.argv.includes("--smoke");
const N = smoke ? 3 : 40;
const WARM = smoke ? 1 : 5;

const w = new BridgeWorker(new URL("./transfer-worker.mjs", import.meta.url), { type: "module", maxMessage: 64 << 20 });
w.sync.take = (buf) => buf.byteLength;
await w.ready;

const stats = (t) => {
  const s = [...t].sort((a, b) => a - b);
  return { median: s[s.length >> 1], min: s[0], max: s[s.length - 1] };
};
const f = (x) => x.toFixed(3).padStart(8);

const rows = [];
for (const size of [1 << 20, 8 << 20]) {
  const r = {};
  for (const move of [false, true]) {
    await w.sync.bench(WARM, size, move);
    r[move ? "move" : "copy"] = stats(await w.sync.bench(N, size, move));
  }
  rows.push([size, r]);
}
w.terminate();

console.log(`worker->main sync call with one ArrayBuffer argument, ${N} calls per row (ms per call)`);
console.log("size     | mode | median   | min      | max      | copy/move (median)");
for (const [size, r] of rows) {
  const label = `${size >> 20} MiB`.padEnd(8);
  console.log(`${label} | copy | ${f(r.copy.median)} | ${f(r.copy.min)} | ${f(r.copy.max)} |`);
  console.log(`${label} | move | ${f(r.move.median)} | ${f(r.move.min)} | ${f(r.move.max)} | ${(r.copy.median / r.move.median).toFixed(1)}x`);
}
