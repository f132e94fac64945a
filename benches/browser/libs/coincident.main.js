// coincident 4.1.1 (`coincident/window/main`, the prebuilt dist file), main side,
// with default options as PyScript's worker uses it.
import coincident from "/node_modules/coincident/dist/window/main.js";

const { Worker } = coincident();

export function start(url, api, options = {}) {
  const w = new Worker(url, { type: "module", ...options });
  w.proxy.add = api.add;
  w.proxy.echoStr = api.echoStr;
  w.proxy.echoF64 = api.echoF64;
  return {
    worker: w,
    callWorker: (a, b) => w.proxy.wadd(a, b),
    terminate: () => w.terminate(),
  };
}
