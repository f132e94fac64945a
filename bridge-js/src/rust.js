// The JS bootstrap of a worker whose code is Rust (`worker-bridge/rust`;
// docs/rust.md). A Rust crate built with bridge-wasm's `embed` feature and
// wasm-bindgen `--target web` needs only:
//
//   // worker.js
//   import * as wasm from "./pkg/my_crate.js";
//   import { runRustWorker } from "worker-bridge/rust";
//   runRustWorker(wasm, { start: "start" });
//
// It speaks the start-up handshake of worker.js (docs/protocol.md §7): waits
// for the main thread's `{ "worker-bridge": 1, ... }`, initialises the wasm,
// hands the channel to Rust (`initBridge`), calls the crate's exported
// `start` function (where the Rust code exposes its functions), answers
// "ready" and serves the page's calls (`serveRustWorker`) until the channel
// closes. Works in browsers and on Node worker_threads.

import { serveRustWorker } from "./rust-serve.js";

const TAG = "worker-bridge";

function isNode() {
  return typeof process === "object" && process.versions != null && typeof process.versions.node === "string";
}

async function initWasm(wasm, wasmUrl) {
  if (isNode()) {
    // wasm-bindgen's `--target web` loader fetches the .wasm, which Node's
    // fetch cannot do for file: URLs.
    if (!wasmUrl) throw new Error("runRustWorker: on Node pass { wasmUrl } (the _bg.wasm file's URL)");
    const { readFileSync } = await import("node:fs");
    wasm.initSync({ module: readFileSync(wasmUrl) });
  } else if (wasmUrl) {
    await wasm.default({ module_or_path: wasmUrl });
  } else {
    await wasm.default();
  }
}

/** Why this start-up message cannot run a Rust worker, or null. */
function refusal(init) {
  if (init.transport !== "atomics" || !(init.sab instanceof SharedArrayBuffer)) {
    return `the Rust embedding needs the atomics transport (SharedArrayBuffer); got ${JSON.stringify(init.transport)}. Serve the page cross-origin isolated (COOP/COEP)`;
  }
  if (init.doorbell === true) {
    return "the main thread has no Atomics.waitAsync and asks for doorbell messages, which the Rust embedding does not send; use a browser or Node with Atomics.waitAsync";
  }
  return null;
}

/**
 * Runs a Rust worker: `wasm` is the module wasm-bindgen generated (its
 * namespace, not yet initialised). `start` names the crate's exported
 * function that exposes the Rust functions (called once, after `initBridge`;
 * null for none). Resolves when the channel closed, or when start-up failed:
 * that error is thrown in the worker's global scope, so the page's
 * `BridgeWorker` sees it as a worker error.
 */
export function runRustWorker(wasm, { start = "start", wasmUrl = null, onError = (e) => console.error("worker-bridge (Rust worker):", e) } = {}) {
  return new Promise((resolve) => {
    let started = false;
    let port = null;
    const run = async (init) => {
      const why = refusal(init);
      if (why) throw new Error(`runRustWorker: ${why}`);
      await initWasm(wasm, wasmUrl);
      wasm.initBridge(init.sab, init.capacity, init.maxMessage, init.timeout || undefined);
      if (start != null) {
        if (typeof wasm[start] !== "function") {
          throw new Error(`runRustWorker: the wasm module exports no function ${JSON.stringify(start)} (mark it #[wasm_bindgen] and pub)`);
        }
        wasm[start]();
      }
      port.postMessage({ [TAG]: "ready", waitAsync: true });
      await serveRustWorker(() => wasm.servePending(), init.sab, init.capacity, { onError });
    };
    const onMessage = (data) => {
      if (data === null || typeof data !== "object" || data[TAG] !== 1 || started) return;
      started = true;
      run(data).then(resolve, (e) => {
        // Surface it to the main thread as a worker error (BridgeWorker's
        // `ready` rejects with it).
        setTimeout(() => { throw e; });
        resolve();
      });
    };
    if (typeof globalThis.WorkerGlobalScope === "function" && globalThis instanceof globalThis.WorkerGlobalScope) {
      port = globalThis;
      globalThis.addEventListener("message", (e) => onMessage(e.data));
    } else {
      const spec = "node:worker_threads";
      import(spec).then(({ parentPort }) => {
        if (!parentPort) throw new Error("runRustWorker: not in a worker");
        port = parentPort;
        parentPort.on("message", onMessage);
      }).catch((e) => setTimeout(() => { throw e; }));
    }
  });
}
