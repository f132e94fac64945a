// Vite production build of tests/bundlers/app, as docs/api.md ("Bundlers")
// tells a user to set it up.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import workerBridge from "worker-bridge/vite";

export default defineConfig({
  root: fileURLToPath(new URL("./app", import.meta.url)),
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("./.build/vite", import.meta.url)),
    emptyOutDir: true,
  },
  plugins: [workerBridge()],
});
