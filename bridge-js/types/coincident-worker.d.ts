// worker-bridge/coincident/worker: coincident 4.1.1's
// `coincident/window/worker` shape on worker-bridge (docs/pyscript.md).
import type { BridgeStats } from "./main.js";
import type { MainProxy, WorkerSync } from "./worker.js";
import { transfer } from "./main.js";
import type { CoincidentFFI } from "./coincident-main.js";

export interface Coincident {
  /** Assign functions to expose them to the page; call the page's (synchronous when `sync`). */
  proxy: WorkerSync;
  /** Blocking calls into the main thread work (atomics or service-worker transport). */
  sync: boolean;
  /** SharedArrayBuffer + Atomics carry the calls. */
  native: boolean;
  /** The page's global; `window.import(name)` imports a module on the page (coincident's). */
  window: MainProxy & typeof globalThis & { import(name: string): Promise<any> };
  isWindowProxy(value: unknown): boolean;
  transfer: typeof transfer;
  /** reflected-ffi's batched helpers, one round trip each. */
  ffi: CoincidentFFI;
  transport: "atomics" | "service-worker" | "async";
  release(proxy: MainProxy): boolean;
  stats(): BridgeStats;
}

export default function coincident(options?: { transform?: (value: any) => any; transfer?: boolean }): Promise<Coincident>;
