// See main.ts: the Vite plugin's types.
import workerBridge from "worker-bridge/vite";

export default { plugins: [workerBridge(), workerBridge({ serviceWorker: false }), workerBridge({ serviceWorker: "sw.js" })] };
