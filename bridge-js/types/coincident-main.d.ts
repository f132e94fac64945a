// worker-bridge/coincident/main: coincident 4.1.1's `coincident/window/main`
// shape on worker-bridge (docs/pyscript.md).
import type { BridgeStats, MainSync } from "./main.js";
import { transfer } from "./main.js";

export interface CoincidentOptions {
  /** Applied to every argument and result the page sends. */
  transform?: (value: any) => any;
  /** Default time-out in ms for every call, both ways (omitted: none). */
  timeout?: number;
  /** coincident's flag for its own transfer marker; accepted, not needed (worker-bridge's transfer() marks values). */
  transfer?: boolean;
  /** What the worker's `window.import(name)` calls (default: a dynamic import of `name` resolved against the page's URL). */
  import?: (name: string) => Promise<any>;
}

export interface CoincidentWorkerOptions extends WorkerOptions {
  /** The service-worker transport's script, for pages that are not cross-origin isolated (docs/service-worker.md). */
  serviceWorker?: string;
  /** Alias of serviceWorker. */
  service_worker?: string;
  /** reflected-ffi's cache window; accepted, without effect (docs/pyscript.md). */
  reflected_ffi_timeout?: number;
  /** Time-out in ms for every call of this worker, both ways (omitted: none). */
  timeout?: number;
  /** As coincident()'s `import`, for this worker. */
  import?: (name: string) => Promise<any>;
}

export interface CoincidentFFI {
  assign<T extends object>(target: T, ...sources: object[]): T;
  direct<T>(value: T): T;
  evaluate(fn: (...args: any[]) => any, ...args: any[]): any;
  gather(target: object, ...keys: (string | symbol)[]): any[];
  query(target: object, path: string): any;
}

export declare class CoincidentWorker extends Worker {
  constructor(url: string | URL, options?: CoincidentWorkerOptions);
  /** Assign functions to expose them to the worker; call the worker's (they return Promises). */
  readonly proxy: MainSync;
  readonly ffi: CoincidentFFI;
  /** "atomics", "service-worker" or "async". */
  readonly transport: "atomics" | "service-worker" | "async";
  /** Resolves when the worker's bridge is up. */
  readonly bridgeReady: Promise<void>;
  stats(): BridgeStats;
}

export default function coincident(options?: CoincidentOptions): {
  Worker: typeof CoincidentWorker;
  /** SharedArrayBuffer is usable on this page. */
  native: boolean;
  transfer: typeof transfer;
};
