// A service worker with the bridge's listeners that does NOT call
// clients.claim(): the page that registers it is not controlled until it is
// reloaded, so BridgeWorker takes the "one reload on first install" path
// (docs/service-worker.md, "First load").
import { installBridgeServiceWorker } from "/bridge-js/src/sw.js";

installBridgeServiceWorker(self, { claim: false });
