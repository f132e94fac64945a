// worker-bridge (this project), main side, from bridge-js/src (ours-api.js).
import { BridgeWorker } from "/bridge-js/src/main.js";
import { startOurs } from "./ours-api.js";

export const start = (url, api, options) => startOurs(BridgeWorker, url, api, options);
