// The service worker of the PyScript pages without COOP/COEP
// (service-worker="./sw.js"): worker-bridge's listeners only.
import { installBridgeServiceWorker } from "/bridge-js/src/sw.js";
installBridgeServiceWorker(self);
