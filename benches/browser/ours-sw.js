// worker-bridge's service worker for the `sw` case, merged into a module
// service worker in this folder so that its scope covers the benchmark page
// and libs/ (as coincident-sw.js does for coincident's).
import { installBridgeServiceWorker } from "/bridge-js/src/sw.js";

installBridgeServiceWorker(self);
