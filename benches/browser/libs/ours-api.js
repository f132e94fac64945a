// The `ours` adapters' code, given worker-bridge's entry points: shared by
// ours.*.js (bridge-js/src, what `exports` give bundlers and Node) and
// ours-dist.*.js (bridge-js/dist, what `exports` give a page without a
// bundler), so both rows run the same code through different builds.

/** Main side: `BridgeWorker` from the build under test. */
export function startOurs(BridgeWorker, url, api, options = {}) {
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

/** Worker side: `bridge` from the build under test; `domWithWindow` from common.worker.js. */
export async function setupOurs(bridge, domWithWindow) {
  const { sync, window, transport } = await bridge();
  // `&sw` in the URL: the `sw` case (page without COOP/COEP, serviceWorker option).
  const expected = new URL(self.location.href).searchParams.has("sw") ? "service-worker" : "atomics";
  if (transport && transport !== expected) throw new Error(`worker-bridge: transport is ${transport}, expected ${expected}`);
  sync.wadd = (a, b) => a + b;
  return {
    kind: "sync",
    add: (a, b) => sync.add(a, b),
    echoStr: (s) => sync.echoStr(s),
    echoF64: (a) => sync.echoF64(a),
    title: () => window.document.title,
    dom: (n) => domWithWindow(window, n),
  };
}
