export {
  BridgeError, DeadlockError, TimeoutError, InterruptError, ClosedError,
} from "./main.js";
export { transfer } from "./main.js";
export type { BridgeStats } from "./main.js";
import type { BridgeStats } from "./main.js";
import { transfer } from "./main.js";

/**
 * `sync` in the worker: assign a function to expose it to the main thread;
 * read a name to call the main thread's function. With the "atomics"
 * transport the call is synchronous; with "async" it returns a Promise.
 */
export type WorkerSync = {
  [name: string]: (...args: any[]) => any;
};

/** A proxy of a main-thread object: property reads, calls and `new` are synchronous. */
export type MainProxy = any;

export interface Bridge {
  sync: WorkerSync;
  /** Synchronous proxy of the main thread's globalThis (throws under the "async" transport). */
  window: MainProxy & typeof globalThis;
  /** True for proxies of main-thread objects (window and everything reached through it). */
  isWindowProxy(value: unknown): boolean;
  /** True when SharedArrayBuffer + Atomics carry the calls. */
  native: boolean;
  transport: "atomics" | "async" | "service-worker";
  /** Frees a proxy now (also `proxy[Symbol.dispose]()`); false if it was released already. */
  release(proxy: MainProxy): boolean;
  /** The module's `transfer()`: move ArrayBuffers instead of copying them. */
  transfer: typeof transfer;
  /** Live reference counts of the worker side. */
  stats(): BridgeStats;
  /**
   * Runs `fn`; every call it starts gets a time-out of `ms` (0 = none)
   * instead of the BridgeWorker's `timeout` option; a call that runs out
   * throws TimeoutError. Returns what `fn` returns.
   */
  withTimeout<T>(ms: number, fn: () => T): T;
}

export interface BridgeOptions {
  /**
   * Applied to every argument and result the worker sends (arguments of
   * sync calls and proxy operations, set values, results of the worker's
   * functions). The last one given applies.
   */
  transform?: ((value: any) => any) | null;
}

/** Resolves once the main thread's start-up message arrived. */
export function bridge(options?: BridgeOptions): Promise<Bridge>;

/**
 * `fn(obj)` is asked about each non-function object this worker is about to
 * send to the main thread by reference; a different value it returns is sent
 * instead, by value. `null` removes the hook.
 */
export function convertOutgoing(fn: ((obj: object) => unknown) | null): void;
