// worker-bridge/rust: the JS bootstrap of a worker whose code is Rust
// (bridge-wasm's `embed` feature; docs/rust.md).

/** The parts of a wasm-bindgen `--target web` module the bootstrap uses. */
export interface RustWasmModule {
  default(init?: { module_or_path: URL | string | Response | BufferSource }): Promise<unknown>;
  initSync(init: { module: BufferSource }): unknown;
  initBridge(sab: SharedArrayBuffer, capacity: number, maxMessage: number, timeout?: number): void;
  servePending(): number;
  /** The service-worker transport (a page without COOP/COEP; docs/service-worker.md). */
  initBridgeSw(sw: unknown, maxMessage: number, timeout: number | undefined, limits: unknown,
    post: (kind: string, bytes?: Uint8Array) => void, wake: () => void): void;
  swDeliver(bytes: Uint8Array): void;
  [exported: string]: unknown;
}

export interface RunRustWorkerOptions {
  /** The crate's exported function that exposes the Rust functions (default "start"; null: none). */
  start?: string | null;
  /** The `_bg.wasm` file; required on Node, optional in browsers (wasm-bindgen's default location). */
  wasmUrl?: URL | string | null;
  /** Errors while serving the page's calls (default: console.error). */
  onError?: (e: unknown) => void;
}

/**
 * For a bootstrap of your own (docs/rust.md, "Start-up: the worker's JS
 * bootstrap", step 6): makes a panic or an error that ends serving reach the
 * page once, as `{ "worker-bridge": "failed", reason }` sent with `post`
 * (the worker's `postMessage`), so that every pending and later call rejects
 * with a ClosedError that says why. Call it after the crate set its own panic
 * hook; it returns the `onError` to give `serveRustWorker`, which also calls
 * `onError` with each error.
 */
export function failOnce(wasm: RustWasmModule, post: (message: unknown) => void, onError: (e: unknown) => void): (e: unknown) => void;

/**
 * Waits for the page's start-up message, starts the wasm and the bridge,
 * calls `start`, tells the page it is ready and serves its calls. Resolves
 * when the channel closed or start-up failed (that error is thrown in the
 * worker's global scope, where the page's BridgeWorker sees it).
 */
export function runRustWorker(wasm: RustWasmModule, options?: RunRustWorkerOptions): Promise<void>;
