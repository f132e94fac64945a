// worker-bridge, main side, from a baseline bundle (benches/browser/base.mjs
// builds it from a git revision), for before/after runs beside ours-dist.
import { BridgeWorker } from "/benches/browser/.build/base/main.js";
import { startOurs } from "./ours-api.js";

export const start = (url, api, options) => startOurs(BridgeWorker, url, api, options);
