// worker-bridge, main side, from one esbuild bundle (see ours-bundled.worker.js).
import { BridgeWorker } from "../.build/ours/ours-main.js";

export function start(url, api) {
  const w = new BridgeWorker(url, { type: "module" });
  w.sync.add = api.add;
  return { worker: w, callWorker: (a, b) => w.sync.wadd(a, b), terminate: () => w.terminate() };
}
