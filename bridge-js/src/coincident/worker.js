// `worker-bridge/coincident/worker`: coincident 4.1.1's
// `coincident/window/worker` on worker-bridge, for polyscript / PyScript
// (docs/pyscript.md).
//
//   import coincident from "worker-bridge/coincident/worker";
//   const { proxy, sync, native, window, isWindowProxy, transfer, ffi } = await coincident({ transform });
//   proxy.name = (...args) => ...;     // the page may call it
//   proxy.fromMain(1, 2);              // synchronous when `sync` is true
//   window.document.title = "hi";      // synchronous DOM
//
// Importing this module installs the bridge's message listener (see
// ../worker.js), before the importing module's code runs.

import { bridge } from "../worker.js";
import { FFI_NAME, ffiHelpers } from "./ffi.js";

/**
 * @param {object} [options]
 * @param {(value: any) => any} [options.transform]  applied to every argument and result the worker sends
 */
export default async function coincident(options) {
  const transform = typeof options?.transform === "function" ? options.transform : null;
  // As with coincident, a proxy of a main-thread Promise is awaitable.
  const b = await bridge({ transform, remoteThen: true });
  const { sync: proxy, isWindowProxy } = b;
  const blocking = b.transport !== "async";
  const callMain = (op, target, arg, args) => proxy[FFI_NAME](op, target, arg, args);
  return {
    proxy,
    // coincident's `sync`: blocking calls into the main thread work.
    sync: blocking,
    native: b.native,
    window: b.window,
    isWindowProxy,
    transfer: b.transfer,
    ffi: ffiHelpers(callMain, isWindowProxy),
    // worker-bridge extras
    transport: b.transport,
    release: b.release,
    stats: b.stats,
  };
}
