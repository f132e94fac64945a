// A small static file server for the demo, the end-to-end tests and the
// benchmarks. It serves the repository root, so pages can import
// `/bridge-js/src/main.js` and `/node_modules/...` by absolute path.
//
//   startServer({ isolated: true })            COOP/COEP: SharedArrayBuffer works
//   startServer({ isolated: false })           no headers: the service-worker / async paths
//   startServer({ csp: "script-src 'self' 'wasm-unsafe-eval'" })
//
// Run directly: `node tests/server.mjs [--port 8000] [--no-isolation]`.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

// WB_SERVE_DIST=1: the library's entry files, asked for under
// /bridge-js/src/, come from bridge-js/dist (what the package's `exports`
// give a page), so that the e2e tiers can run against the built files
// (docs/testing.md, "The tiers against bridge-js/dist"). PyScript's wb
// build bundles bridge-js, so its pages get the wb-dist build instead (the
// same bundle made from bridge-js/dist, xtask/pyscript.mjs).
const DIST_ENTRY = /^\/bridge-js\/src\/((?:main|worker|python|python-worker|transport-sw)\.js|chunk-\w+\.js)$/;
const PYSCRIPT_WB = /^\/demo\/\.build\/pyscript\/wb\//;
const SERVE_DIST = process.env.WB_SERVE_DIST === "1";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".py": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json",
};

/**
 * Start serving `root` on 127.0.0.1. Resolves to `{ url, port, close() }`.
 * `headers(path)` may add per-path headers (e.g. Service-Worker-Allowed).
 */
export async function startServer({
  root = REPO_ROOT,
  port = 0,
  isolated = true,
  csp = null,
  headers = null,
  quiet = true,
} = {}) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    try {
      let path = decodeURIComponent(new URL(req.url, "http://x").pathname);
      if (SERVE_DIST) path = path.replace(DIST_ENTRY, "/bridge-js/dist/$1").replace(PYSCRIPT_WB, "/demo/.build/pyscript/wb-dist/");
      let file = normalize(join(base, path));
      if (file !== base && !file.startsWith(base + sep)) {
        res.writeHead(403).end("forbidden");
        return;
      }
      let info = await stat(file).catch(() => null);
      if (info?.isDirectory()) {
        file = join(file, "index.html");
        info = await stat(file).catch(() => null);
      }
      if (!info) {
        if (!quiet) console.error(`404 ${path}`);
        res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${path}`);
        return;
      }
      const h = {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
      };
      if (isolated) {
        h["cross-origin-opener-policy"] = "same-origin";
        h["cross-origin-embedder-policy"] = "require-corp";
        h["cross-origin-resource-policy"] = "same-origin";
      }
      if (csp) h["content-security-policy"] = csp;
      Object.assign(h, headers?.(path) ?? {});
      // Read before the head goes out: a file that vanishes now (a build
      // rewriting its output) is a 404, not a 200 with no body.
      const body = await readFile(file).catch((e) => (e.code === "ENOENT" ? null : Promise.reject(e)));
      if (body === null) {
        res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${path}`);
        return;
      }
      res.writeHead(200, h).end(body);
    } catch (e) {
      // Once the head is out a status cannot change: cut the response short.
      if (res.headersSent) res.destroy();
      else res.writeHead(500, { "content-type": "text/plain" }).end(String(e));
    }
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", ok);
  });
  const actual = server.address().port;
  return {
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    close: () => new Promise((ok) => server.close(ok)),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const portArg = args.indexOf("--port");
  const s = await startServer({
    port: portArg >= 0 ? Number(args[portArg + 1]) : 8000,
    isolated: !args.includes("--no-isolation"),
    quiet: false,
  });
  console.log(`serving ${REPO_ROOT} at ${s.url} (${args.includes("--no-isolation") ? "no COOP/COEP" : "COOP/COEP on"})`);
}
