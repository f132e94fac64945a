// Proof of the wasm-threads flavour of the Rust embedding (feature
// `threads`, nightly): two threads share one wasm memory, the channel lives
// in it, the worker's end is bridge-core's mailbox in Rust (wasm
// memory.atomic.wait32/notify on the linear memory), the other end is
// bridge-js's JS Mailbox over `memory.buffer`. Not a node:test file (it
// needs the nightly build): run it by hand.
//
//   RUSTFLAGS='-C target-feature=+atomics,+bulk-memory,+mutable-globals -C link-arg=--shared-memory
//     -C link-arg=--max-memory=1073741824 -C link-arg=--import-memory -C link-arg=--export=__wasm_init_tls
//     -C link-arg=--export=__tls_size -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base' \
//   CARGO_TARGET_DIR=target/threads cargo +nightly build -Z build-std=panic_abort,std \
//     --target wasm32-unknown-unknown --profile release-wasm -p bridge-wasm --features threads
//   wasm-bindgen --target web --out-dir target/threads/pkg target/threads/wasm32-unknown-unknown/release-wasm/bridge_wasm.wasm
//   node tests/e2e/rust/threads-check.mjs
import { isMainThread, parentPort, workerData, Worker } from "node:worker_threads";
import { readFileSync, existsSync } from "node:fs";
import assert from "node:assert/strict";

const PKG = new URL("../../../target/threads/pkg/", import.meta.url);
const CAPACITY = 64;
const MAX = 1 << 20;

if (!existsSync(new URL("bridge_wasm.js", PKG))) {
  console.error("target/threads/pkg is missing: build it with the commands at the top of this file");
  process.exit(2);
}
const wasm = await import(new URL("bridge_wasm.js", PKG).href);

if (isMainThread) {
  const { Mailbox, HEADER_BYTES } = await import("../../../bridge-js/src/mailbox.js");
  const module = new WebAssembly.Module(readFileSync(new URL("bridge_wasm_bg.wasm", PKG)));
  const exports = wasm.initSync({ module });
  const memory = exports.memory;
  assert.ok(memory.buffer instanceof SharedArrayBuffer, "the wasm memory is a SharedArrayBuffer");
  const worker = new Worker(new URL(import.meta.url), { workerData: { module, memory } });
  const offset = await new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  assert.ok(wasm.LinearPort.isRegion(offset, CAPACITY), "the worker's region is visible from this instance (same memory)");
  const buf = memory.buffer;
  const toMain = new Mailbox(buf, offset, CAPACITY, MAX);
  const toWorker = new Mailbox(buf, offset + HEADER_BYTES + CAPACITY, CAPACITY, MAX);
  const messages = [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(CAPACITY * 5 + 3).map((_, i) => i & 255)];
  for (const m of messages) {
    toWorker.sendBlocking(m, 5000);
    const back = toMain.recvBlocking(5000);
    assert.deepEqual(Array.from(back), Array.from(m).reverse(), `echo of ${m.length} bytes`);
  }
  const N = 20000;
  const one = new Uint8Array([7, 8]);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    toWorker.sendBlocking(one, 5000);
    toMain.recvBlocking(5000);
  }
  const us = ((performance.now() - t0) * 1000) / N;
  toWorker.sendBlocking(new TextEncoder().encode("bye"), 5000);
  await new Promise((r) => worker.once("exit", r));
  console.log(`threads flavour OK: shared wasm memory, Rust mailbox on linear memory <-> JS mailbox on memory.buffer; ${N} round trips, ${us.toFixed(2)} us each`);
} else {
  wasm.initSync({ module: workerData.module, memory: workerData.memory });
  const port = new wasm.LinearPort(CAPACITY, MAX);
  parentPort.postMessage(port.byteOffset);
  for (;;) {
    const m = port.recv(10000);
    if (m.length === 3 && new TextDecoder().decode(m) === "bye") break;
    port.send(m.reverse(), 10000);
  }
  process.exit(0);
}
