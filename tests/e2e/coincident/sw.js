// worker-bridge's service worker for the pages of this folder (the
// service-worker run of tests/e2e/coincident.test.mjs).
import { installBridgeServiceWorker } from "/bridge-js/src/sw.js";
installBridgeServiceWorker(self);
