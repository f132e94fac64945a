// A Vite plugin for apps that use worker-bridge (docs/api.md, "Bundlers").
//
//   import workerBridge from "worker-bridge/vite";
//   export default { plugins: [workerBridge()] };
//
// Vite bundles a worker only when it sees `new Worker(new URL(...,
// import.meta.url))`; `new BridgeWorker(new URL("./worker.js",
// import.meta.url))` would ship worker.js as it is, unbundled, its imports
// unresolved. This plugin rewrites each such URL to Vite's own bundled-worker
// URL (`./worker.js?worker&url`), builds workers as ES modules (the bridge
// loads its service-worker transport with import()), and writes the service
// worker script beside index.html as `bridge-sw.js` (`serviceWorker: false`
// to leave it out, or another file name). Runs in Node, inside Vite.
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

// This package's own files are left alone (their comments show the pattern).
const OWN = dirname(fileURLToPath(import.meta.url));

const WORKER_URL = /\bnew\s+BridgeWorker\s*\(\s*new\s+URL\s*\(\s*('[^'\n]+'|"[^"\n]+"|`[^`$\n]+`)\s*,\s*import\.meta\.url\s*\)/g;

/** @param {{ serviceWorker?: string | false }} [options] */
export default function workerBridge({ serviceWorker = "bridge-sw.js" } = {}) {
  return {
    name: "worker-bridge",
    enforce: "pre",
    config: () => ({ worker: { format: "es" } }),
    transform(code, id) {
      if (!code.includes("BridgeWorker") || /[?&]worker/.test(id) || id.startsWith(OWN)) return null;
      const imports = [];
      const out = code.replace(WORKER_URL, (all, quoted) => {
        const spec = quoted.slice(1, -1);
        const name = `__workerBridgeUrl${imports.length}`;
        imports.push(`import ${name} from ${JSON.stringify(spec + (spec.includes("?") ? "&" : "?") + "worker&url")};`);
        return all.replace(quoted, name);
      });
      return imports.length ? { code: imports.join("\n") + "\n" + out, map: null } : null;
    },
    generateBundle() {
      if (serviceWorker === false) return;
      this.emitFile({
        type: "asset",
        fileName: serviceWorker,
        source: readFileSync(fileURLToPath(new URL("./sw.js", import.meta.url))),
      });
    },
  };
}
