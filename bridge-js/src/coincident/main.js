// `worker-bridge/coincident/main`: coincident 4.1.1's `coincident/window/main`
// on worker-bridge, for polyscript / PyScript (docs/pyscript.md).
//
//   import coincident from "worker-bridge/coincident/main";
//   const { Worker } = coincident({ transform });
//   const w = new Worker(url, { serviceWorker, reflected_ffi_timeout });
//   w.proxy.name = (...args) => ...;   // the worker may call it synchronously
//   await w.proxy.fromWorker(1, 2);    // what the worker exposed
//
// `Worker` is a subclass of the global Worker (instanceof, addEventListener,
// postMessage, terminate); the bridge rides on a MessageChannel of its own,
// so the Worker's `message` events carry only what user code posts.

import { BridgeWorker, ON_WORKER, canShareMemory } from "../main.js";
import { ClosedError } from "../errors.js";
import { transfer } from "../transfer.js";
import { FFI_NAME, ffiMain, query } from "./ffi.js";

export { transfer };

const importOnPage = (name) => import(/* webpackIgnore: true */ /* @vite-ignore */ new URL(name, globalThis.location.href).href);

/**
 * @param {object} [options]
 * @param {(value: any) => any} [options.transform]  applied to every argument and result the page sends
 * @param {number} [options.timeout]  ms for every call both ways (worker-bridge's `timeout`; omitted: none)
 * @param {(name: string) => Promise<any>} [options.import]  what the worker's `window.import(name)` calls
 *   (default: a dynamic import of `name` resolved against the page's URL)
 */
export default function coincident(options) {
  const transform = typeof options?.transform === "function" ? options.transform : null;
  const defaultTimeout = options?.timeout;
  const defaultImport = options?.import;

  class Worker extends globalThis.Worker {
    #bridge;
    #held = null; // user messages posted before the worker's bridge is up (service worker)

    /**
     * @param {string|URL} url
     * @param {object} [opts]  the global Worker's options, plus `serviceWorker`
     *   (the service-worker transport when not cross-origin isolated),
     *   `reflected_ffi_timeout` (accepted: see docs/pyscript.md), `timeout` and
     *   `import` (as coincident()'s, for this worker)
     */
    constructor(url, opts) {
      const { serviceWorker, service_worker, reflected_ffi_timeout, timeout = defaultTimeout, import: load = defaultImport, ...workerOptions } = opts ?? {};
      super(url, { type: "module", ...workerOptions });
      // super() started the Worker: a set-up that throws (a bad option, a
      // failed allocation) must not leave it running behind the error.
      try {
        const sw = serviceWorker || service_worker || null;
        const bridge = new BridgeWorker(url, {
          serviceWorker: sw,
          // (A negative number: none, as 0. Anything else but a number
          // fails BridgeWorker's check, which names the option.)
          timeout: typeof timeout === "number" && timeout < 0 ? 0 : timeout,
          name: workerOptions.name,
          transform,
          // Python awaits what a main-thread call returns: a rejection must
          // arrive as a rejected promise, not as a JS exception thrown inside
          // the interpreter's call (MicroPython cannot catch that one).
          awaitPromises: false,
          [ON_WORKER]: this,
        });
        this.#bridge = bridge;
        // coincident's `window.import(name)`: the worker reads `import` on the
        // page's global and gets a function that imports a module on the page.
        bridge._ep.globalExtras = { import: typeof load === "function" ? load : importOnPage };
        if (bridge.transport === "service-worker") {
          // The worker's bridge starts once the service worker controls the
          // page; a message posted before would reach the worker before the
          // code that listens for it (after `await coincident()`) runs.
          this.#held = [];
          bridge.ready.then(() => {
            const held = this.#held;
            this.#held = null;
            for (const [data, rest] of held) super.postMessage(data, ...rest);
          }, () => {});
        }
        this.proxy = bridge.sync;
        bridge.sync[FFI_NAME] = ffiMain;
        // coincident's main-side helpers (local objects: plain operations).
        this.ffi = {
          assign: Object.assign,
          direct: (value) => value,
          evaluate: (fn, ...args) => fn(...args),
          gather: (target, ...keys) => keys.map((k) => (typeof k === "string" ? query(target, k) : target[k])),
          query,
        };
      } catch (e) {
        super.terminate();
        throw e;
      }
    }

    postMessage(data, ...rest) {
      if (this.#held !== null) this.#held.push([data, rest]);
      else super.postMessage(data, ...rest);
    }

    /** Ends the worker and the bridge: every pending call rejects with a ClosedError. */
    terminate() {
      this.#bridge._fail(new ClosedError("the worker was terminated (Worker.terminate()); this call can no longer complete"));
      super.terminate();
    }

    /** worker-bridge extras: `transport`, `ready`, `stats()`. */
    get transport() {
      return this.#bridge.transport;
    }

    get bridgeReady() {
      return this.#bridge.ready;
    }

    stats() {
      return this.#bridge.stats();
    }
  }

  return { Worker, native: canShareMemory(), transfer };
}
