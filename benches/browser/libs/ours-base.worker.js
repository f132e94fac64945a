// worker-bridge, worker side, from the baseline bundle (ours-base.main.js).
import { bridge } from "/benches/browser/.build/base/worker.js";
import { boot, domWithWindow } from "../common.worker.js";
import { setupOurs } from "./ours-api.js";

boot(() => setupOurs(bridge, domWithWindow));
