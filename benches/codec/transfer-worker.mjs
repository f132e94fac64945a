// Worker side of benches/codec/transfer.mjs: sync calls into main with a
// fresh buffer each, moved with transfer() or copied, timed in the worker.
import { bridge } from "../../bridge-js/src/worker.js";

const { sync, transfer } = await bridge();

sync.bench = (n, size, move) => {
  const times = [];
  for (let i = 0; i < n; i++) {
    const buf = new ArrayBuffer(size);
    new Uint8Array(buf)[size - 1] = i & 0xff;
    const t0 = performance.now();
    const got = sync.take(move ? transfer(buf) : buf);
    times.push(performance.now() - t0);
    if (got !== size) throw new Error(`main saw ${got} bytes, sent ${size}`);
    if (move && buf.byteLength !== 0) throw new Error("a moved buffer must be detached");
  }
  return times;
};
