/** Options of the worker-bridge Vite plugin (docs/api.md, "Bundlers"). */
export interface WorkerBridgeViteOptions {
  /** File name of the service worker script written beside index.html; `false` leaves it out. Default `"bridge-sw.js"`. */
  serviceWorker?: string | false;
}

/**
 * A Vite plugin: bundles the worker script of every
 * `new BridgeWorker(new URL("./worker.js", import.meta.url), ...)`, builds
 * workers as ES modules, and emits the service worker script.
 * Typed structurally so that the package does not depend on Vite's types.
 */
export default function workerBridge(options?: WorkerBridgeViteOptions): {
  name: string;
  enforce: "pre";
  [hook: string]: unknown;
};
