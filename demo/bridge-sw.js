// The demo's service worker (worker-bridge's listeners, nothing else): it
// lets the demo make synchronous calls on a page served without COOP/COEP
// (open /demo/?sw). See docs/service-worker.md.
import { installBridgeServiceWorker } from "/bridge-js/src/sw.js";

installBridgeServiceWorker(self);
