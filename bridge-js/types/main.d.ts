/** Something about the bridge itself went wrong. */
export class BridgeError extends Error {
  constructor(message?: string, options?: { cause?: unknown });
}
/** A call could never finish; the message contains "Possible deadlock" and names both calls. */
export class DeadlockError extends BridgeError {
  readonly name: "DeadlockError";
}
/** A call took longer than the `timeout` option; the channel stays usable. */
export class TimeoutError extends BridgeError {
  readonly name: "TimeoutError";
}
/** A blocked call was interrupted before its reply arrived. */
export class InterruptError extends BridgeError {
  readonly name: "InterruptError";
}
/** The worker was terminated or crashed, or the channel was closed. */
export class ClosedError extends BridgeError {
  readonly name: "ClosedError";
}

/** Live reference counts of one side of a channel. */
export interface BridgeStats {
  /** Local objects the other side holds proxies of. */
  exports: number;
  /** Proxies of the other side's objects alive here. */
  imports: number;
  /** Sum of the export counts (sends not yet released). */
  exportCount: number;
  /** Sum of the import counts (receptions not yet released). */
  importCount: number;
  /** Releases queued, not yet sent. */
  pendingReleases: number;
  /** Async calls waiting for a reply. */
  pendingCalls: number;
  /** Requests from the other side served here so far (each one round trip). */
  served: number;
}

export interface BridgeWorkerOptions {
  /** Passed to `new Worker` (default "module"). */
  type?: "module" | "classic";
  /** Worker name, passed to `new Worker`. */
  name?: string;
  /**
   * Service-worker script for pages that are not cross-origin isolated
   * (ignored when SharedArrayBuffer is usable). Registered by the page; see
   * docs/service-worker.md. `reload: false` opts out of the one reload on a
   * first install when the page is still not controlled.
   */
  serviceWorker?: string | URL | { url: string | URL; scope?: string | URL; type?: "classic" | "module"; reload?: boolean };
  /** Default time-out in ms for every call, both directions; omitted or 0 = none. */
  timeout?: number;
  /** Serve main->worker calls nested in a blocked worker call (default true). */
  reentrant?: boolean;
  /** Bytes per mailbox frame, a multiple of 8 (default 4 MiB + 64 KiB: a 4 MiB payload is one frame); bigger messages are chunked, each further frame a hand-over between the threads. */
  capacity?: number;
  /** The largest message in bytes (default 256 MiB); larger ones fail with a clear error. */
  maxMessage?: number;
  /**
   * Milliseconds each side polls for the next request after serving one,
   * before it waits with Atomics.waitAsync (default 0.05). Saves the wake-up
   * cost for callers in a loop; 0 turns it off (e.g. on a crowded CPU).
   */
  spin?: number;
  /**
   * Milliseconds both sides poll during a main->worker call (`await
   * w.sync.fn()`): the worker's idle loop for the next call, the main thread
   * for the reply (default 0: both park at once, a call costs two wake-ups).
   * Worth it only when both threads have a free core.
   */
  callSpin?: number;
  /**
   * Milliseconds the worker's thread parks in Atomics.wait for the next
   * main->worker call after serving one (default 2): main's notify then
   * wakes it without an event-loop task, which makes such calls in a loop
   * about half as costly. Parked, it takes no core, but its event loop
   * (timers, messages) waits up to this long after the last call; 0 goes
   * back to the event loop at once. Atomics transport only.
   */
  callPark?: number;
  /**
   * How many main->worker calls may be nested in this worker's blocked calls
   * at once, an integer (default 64); one more rejects with a DeadlockError (calls that
   * recurse without end). See docs/deadlocks.md.
   */
  maxNesting?: number;
  /**
   * ms a DOM event being dispatched waits for a worker listener (a worker
   * function called with the event), serving the worker's calls meanwhile,
   * so `event.preventDefault()` / `stopPropagation()` in the listener take
   * effect (default 50; atomics transport only; 0: do not wait). Past it the
   * event goes on and the listener still runs. Main never waits longer.
   */
  eventWait?: number;
  /** Force a transport (mainly for tests). Default: "atomics" when SharedArrayBuffer is usable. */
  transport?: "atomics" | "service-worker" | "async";
  /**
   * Applied to every argument and result the page sends (arguments of
   * calls into the worker, results of the page's functions and proxy
   * operations, set values). PyScript turns interpreter proxies into JS
   * values with it.
   */
  transform?: (value: any) => any;
}

/**
 * `w.sync`: assign a function to expose it to the worker (the worker calls it
 * synchronously; it may return a Promise, which is awaited while the worker
 * waits); read a name to get a caller of the worker's function, which
 * returns a Promise.
 */
export type MainSync = {
  [name: string]: (...args: any[]) => any;
};

export class BridgeWorker {
  constructor(url: string | URL, options?: BridgeWorkerOptions);
  /** Expose main functions (assign) and call worker functions (read, await). */
  readonly sync: MainSync;
  /** The underlying Worker (a node:worker_threads Worker under Node; null there until it exists). */
  readonly worker: Worker | any;
  /** Resolves when the worker received the start-up message; rejects if it failed to start. */
  readonly ready: Promise<void>;
  /** "atomics" (SharedArrayBuffer + Atomics) or "async" (postMessage, no blocking). */
  readonly transport: "atomics" | "async" | "service-worker";
  /** Live reference counts of the main side of this channel. */
  stats(): BridgeStats;
  /**
   * Runs `fn`; every call it starts synchronously gets a time-out of `ms`
   * (0 = none) instead of the `timeout` option. Returns what `fn` returns:
   * `await w.withTimeout(500, () => w.sync.compute(1, 2))`.
   */
  withTimeout<T>(ms: number, fn: () => T): T;
  /**
   * Answers the innermost call the worker is blocked in (one main is
   * serving) with an InterruptError thrown in the worker. False when the
   * worker is not blocked in one of main's functions.
   */
  interrupt(reason?: string): boolean;
  /** Stops the worker; every pending call rejects with ClosedError. */
  terminate(): void;
}

/**
 * Releases a worker-bridge proxy now (the same as `proxy[Symbol.dispose]()`);
 * false if it was released already. Throws a TypeError for anything else.
 */
export function release(proxy: object): boolean;

/**
 * Marks `value` so that the ArrayBuffers in `transferables` are moved, not
 * copied, when `value` is sent as a call's argument or result; returns
 * `value`. Without `transferables`, `value` must be an ArrayBuffer (moved
 * itself) or a typed array / DataView (its buffer moves). After the send
 * every listed buffer is detached on the sender (byteLength 0). Throws a
 * TypeError for a non-ArrayBuffer, a buffer listed twice or a detached one.
 * (docs/api.md "Moving buffers: transfer()")
 */
export function transfer<T extends ArrayBuffer | ArrayBufferView>(value: T): T;
export function transfer<T extends object>(value: T, transferables: Iterable<ArrayBuffer>): T;

/**
 * The channels a worker offered inside its own shared wasm memory (the
 * wasm-threads flavour of the Rust embedding, docs/rust.md), which `w`
 * serves like its own: one per thread of the worker's pool. Empty for
 * other workers.
 */
export function adoptedStats(w: BridgeWorker): Array<BridgeStats & { byteOffset: number }>;
