// worker-bridge (this project), worker side. A static import: bridge-js
// installs its start-up message listener while the module evaluates.
import { bridge } from "/bridge-js/src/worker.js";
import { boot, domWithWindow } from "../common.worker.js";

boot(async () => {
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
});
