// The worker of the wasm-threads demo: the JS bootstrap of a Rust worker
// whose wasm memory is shared (docs/rust.md, "The wasm-threads flavour").
//
// 1. The page's BridgeWorker posts its start-up message; we load the wasm
//    (built by `cargo xtask build --threads` into demo/.build/mandelbrot/)
//    and start the bridge on this worker's own channel (`initBridge`).
// 2. `initThreadPool(n)` starts wasm-bindgen-rayon's pool: n workers nested
//    in this one, sharing the wasm memory.
// 3. `allocThreadChannels(n, ...)` makes one channel per pool thread inside
//    that shared memory; we offer them to the page ("adopt"), which serves
//    each like this worker's own channel. A pool thread takes a channel on
//    its first call to the page and blocks on it with memory.atomic.wait32.
// 4. `install()` exposes the Rust functions; "ready"; then we serve the
//    page's calls whenever our to_worker mailbox moves. A panic on this
//    thread reaches the page through `failOnce` (as with `runRustWorker`),
//    which then rejects every call with a ClosedError that says why.
//
// `?threads=n` in this script's URL sets the pool size (`?channels=m`
// allocates m channels instead of n, for the test of too few).

import { serveRustWorker } from "/bridge-js/src/rust-serve.js";
import { failOnce } from "/bridge-js/src/rust.js";

const TAG = "worker-bridge";
const PKG = new URL("../.build/mandelbrot/", import.meta.url);
// Bytes per mailbox frame of a pool thread's channel (a row of counts is a
// few hundred bytes; bigger messages go in several frames).
const THREAD_CAPACITY = 64 * 1024;

let started = false;

async function start(init) {
  if (init.transport !== "atomics" || !(init.sab instanceof SharedArrayBuffer)) {
    throw new Error(`mandelbrot worker: wasm threads need the atomics transport (a cross-origin isolated page); got ${JSON.stringify(init.transport)}`);
  }
  const params = new URL(self.location.href).searchParams;
  const threads = Number(params.get("threads")) || 2;
  // One channel per pool thread; `?channels=` fewer only to test the error.
  const channelCount = params.has("channels") ? Number(params.get("channels")) : threads;
  const wasm = await import(new URL("mandelbrot_threads.js", PKG).href);
  const exports = await wasm.default({ module_or_path: new URL("mandelbrot_threads_bg.wasm", PKG) });
  const timeout = init.timeout || undefined;
  wasm.initBridge(init.sab, init.capacity, init.maxMessage, timeout);
  await wasm.initThreadPool(threads);
  const channels = Array.from(wasm.allocThreadChannels(channelCount, THREAD_CAPACITY, init.maxMessage, timeout));
  self.postMessage({
    [TAG]: "adopt",
    memory: exports.memory.buffer,
    channels,
    capacity: THREAD_CAPACITY,
    maxMessage: init.maxMessage,
  });
  wasm.install();
  const onError = failOnce(wasm, (m) => self.postMessage(m), (e) => console.error("mandelbrot worker:", e));
  self.postMessage({ [TAG]: "ready", waitAsync: true });

  // Serve the page's calls (render, allAtOnce, ...) as they arrive.
  await serveRustWorker(() => wasm.servePending(), init.sab, init.capacity, { onError });
}

self.addEventListener("message", (e) => {
  const data = e.data;
  if (data === null || typeof data !== "object" || data[TAG] !== 1 || started) return;
  started = true;
  start(data).catch((err) => {
    console.error("mandelbrot worker: start-up failed:", err);
    setTimeout(() => { throw err; });
  });
});
