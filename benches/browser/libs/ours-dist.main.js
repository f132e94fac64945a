// worker-bridge (this project), main side, from bridge-js/dist, the prebuilt bundle `cargo xtask build` writes (ours-api.js).
import { BridgeWorker } from "/bridge-js/dist/main.js";
import { startOurs } from "./ours-api.js";

export const start = (url, api, options) => startOurs(BridgeWorker, url, api, options);
