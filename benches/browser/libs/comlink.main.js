// comlink 4.4.2, main side: expose the API and globalThis on two channels,
// wrap the worker's API on a third.
import * as Comlink from "/node_modules/comlink/dist/esm/comlink.mjs";

export function start(url, api) {
  const w = new Worker(url, { type: "module" });
  const a = new MessageChannel();
  const b = new MessageChannel();
  const c = new MessageChannel();
  Comlink.expose(api, a.port1);
  Comlink.expose(globalThis, b.port1);
  w.postMessage({ api: a.port2, win: b.port2, wapi: c.port2 }, [a.port2, b.port2, c.port2]);
  const remote = Comlink.wrap(c.port1);
  return {
    worker: w,
    callWorker: (x, y) => remote.wadd(x, y),
    terminate: () => w.terminate(),
  };
}
