// worker-bridge (this project), worker side, from bridge-js/src. A static
// import: bridge-js installs its start-up message listener while the module
// evaluates.
import { bridge } from "/bridge-js/src/worker.js";
import { boot, domWithWindow } from "../common.worker.js";
import { setupOurs } from "./ours-api.js";

boot(() => setupOurs(bridge, domWithWindow));
