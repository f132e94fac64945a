// worker-bridge (this project), main side.
import { BridgeWorker } from "/bridge-js/src/main.js";

export function start(url, api, options = {}) {
  const w = new BridgeWorker(url, { type: "module", ...options });
  w.sync.add = api.add;
  w.sync.echoStr = api.echoStr;
  w.sync.echoF64 = api.echoF64;
  return {
    worker: w,
    callWorker: (a, b) => w.sync.wadd(a, b),
    terminate: () => w.terminate(),
  };
}
