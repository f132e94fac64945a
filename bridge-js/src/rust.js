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
// closes. Works in browsers and on Node worker_threads, on the Atomics
// transport and (browsers) on the service-worker transport, where Rust blocks
// in a synchronous XMLHttpRequest (`initBridgeSw`; docs/service-worker.md).

import { serveRustWorker, serveOnDemand } from "./rust-serve.js";

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
  if (init.transport === "service-worker") {
    return init.sw != null && init.port != null ? null : "the start-up message of the service-worker transport lacks its `sw` part or the bridge's port";
  }
  if (init.transport !== "atomics" || !(init.sab instanceof SharedArrayBuffer)) {
    return `the Rust embedding needs a transport that can block: atomics (SharedArrayBuffer) or the service worker; got ${JSON.stringify(init.transport)}. Serve the page cross-origin isolated (COOP/COEP), or give BridgeWorker the serviceWorker option (docs/service-worker.md)`;
  }
  if (init.doorbell === true) {
    return "the main thread has no Atomics.waitAsync and asks for doorbell messages, which the Rust embedding does not send; use a browser or Node with Atomics.waitAsync";
  }
  return null;
}

/**
 * What ends serving when a Rust function cannot return (a panic, which traps
 * the wasm instance, or a JS exception thrown through Rust): the instance
 * cannot serve again, so the page is told why (`{ "worker-bridge": "failed",
 * reason }`, docs/protocol.md §7) and rejects every pending call with a
 * ClosedError that says so. The first reason wins: Rust's panic hook
 * (`onBridgeFailure`) gives the panic's message before the trap reaches the
 * serve loop as `RuntimeError: unreachable`. Returns the serve loop's
 * `onError`. Exported for a bootstrap of your own (docs/rust.md, step 6):
 * call it after your crate set its own panic hook, `post` the worker's
 * `postMessage`, and give what it returns to `serveRustWorker` as `onError`.
 */
export function failOnce(wasm, post, onError) {
  let failed = false;
  const fail = (reason) => {
    if (failed) return;
    failed = true;
    post({ [TAG]: "failed", reason });
  };
  // Older crates lack the export: the serve loop's error is the reason then.
  if (typeof wasm.onBridgeFailure === "function") wasm.onBridgeFailure(fail);
  return (e) => {
    onError(e);
    fail(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  };
}

/** Starts a Rust worker on the service-worker transport; resolves when serving ended. */
async function runOnServiceWorker(wasm, init, { start, wasmUrl, onError }) {
  // Main's messages travel on the bridge's port; those that come before the
  // wasm is ready wait here, in order.
  const bridgePort = init.port;
  let early = [];
  let deliver = null;
  bridgePort.addEventListener("message", (e) => {
    const d = e.data;
    if (d === null || typeof d !== "object" || d[TAG] !== "m") return;
    if (deliver === null) early.push(d.b);
    else deliver(d.b);
  });
  bridgePort.start();
  // The limits and the header name live in transport-sw.js (loaded only on
  // this transport, as worker.js does).
  const [{ RUST_LIMITS }] = await Promise.all([import("./transport-sw.js"), initWasm(wasm, wasmUrl)]);
  let onServeError = onError;
  const { wake, done } = serveOnDemand(() => wasm.servePending(), { onError: (e) => onServeError(e) });
  const post = (kind, b) => {
    if (b === undefined) bridgePort.postMessage({ [TAG]: kind });
    else bridgePort.postMessage({ [TAG]: kind, b }, [b.buffer]);
  };
  wasm.initBridgeSw(init.sw, init.maxMessage, init.timeout || undefined, RUST_LIMITS, post, wake);
  startRust(wasm, start);
  onServeError = failOnce(wasm, (m) => bridgePort.postMessage(m), onError);
  deliver = (b) => {
    wasm.swDeliver(b);
    wake();
  };
  for (const b of early) wasm.swDeliver(b);
  early = null;
  bridgePort.postMessage({ [TAG]: "ready", waitAsync: true });
  wake();
  await done;
}

function startRust(wasm, start) {
  if (start == null) return;
  if (typeof wasm[start] !== "function") {
    throw new Error(`runRustWorker: the wasm module exports no function ${JSON.stringify(start)} (mark it #[wasm_bindgen] and pub)`);
  }
  wasm[start]();
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
      if (init.transport === "service-worker") return runOnServiceWorker(wasm, init, { start, wasmUrl, onError });
      await initWasm(wasm, wasmUrl);
      wasm.initBridge(init.sab, init.capacity, init.maxMessage, init.timeout || undefined);
      startRust(wasm, start);
      const onServeError = failOnce(wasm, (m) => port.postMessage(m), onError);
      port.postMessage({ [TAG]: "ready", waitAsync: true });
      await serveRustWorker(() => wasm.servePending(), init.sab, init.capacity, { onError: onServeError });
    };
    const onMessage = (data) => {
      if (data === null || typeof data !== "object" || data[TAG] !== 1 || started) return;
      if (data.wait === true && data.port != null) {
        // The start-up message follows on the bridge's channel (main.js,
        // an existing Worker on the service-worker transport).
        const bridgePort = data.port;
        bridgePort.addEventListener("message", (e) => {
          if (e.data !== null && typeof e.data === "object" && e.data[TAG] === 1) onMessage({ ...e.data, port: bridgePort });
        });
        bridgePort.start();
        return;
      }
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
