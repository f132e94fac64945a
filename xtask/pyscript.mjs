// PyScript built from its npm packages (@pyscript/core + polyscript, pinned at
// the repository root), twice, into demo/.build/pyscript/ (git-ignored):
//
//   wb/     coincident's two specifiers aliased to worker-bridge's compat
//           entries: `coincident/window/main` -> bridge-js/src/coincident/main.js
//           (the page side, imported by polyscript's esm/worker/xworker.js)
//           and `coincident/window/worker` -> bridge-js/src/coincident/worker.js
//           (inside the worker, imported by polyscript's esm/worker/_template.js)
//   wb-dist/ as wb/, with the compat entries' imports of bridge-js's
//           `../main.js` and `../worker.js` taken from bridge-js/dist (the
//           build a page without a bundler gets, internal names renamed);
//           tests/server.mjs serves it for wb/ when WB_SERVE_DIST=1
//   stock/  the same sources, nothing aliased: PyScript as it ships, for the
//           side-by-side benchmark (benches/pyscript/run.mjs)
//
// polyscript ships its worker as a string: esm/worker/xworker.js starts the
// worker from a Blob of `_template.js` bundled with coincident's worker side
// (polyscript's rollup/build_xworker.cjs). So for wb/ the template is bundled
// again with the alias, and the string in xworker.js is swapped for it; the
// rest of xworker.js (its `coincident({ transform })` call) stays polyscript's.
//
// Run by `cargo xtask build`; alone: `node xtask/pyscript.mjs`.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { INTERNAL_PROPS } from "./mangle.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "demo/.build/pyscript");
const POLYSCRIPT = join(ROOT, "node_modules/polyscript");
const CORE = join(ROOT, "node_modules/@pyscript/core");
export const ALIASES = {
  "coincident/window/main": join(ROOT, "bridge-js/src/coincident/main.js"),
  "coincident/window/worker": join(ROOT, "bridge-js/src/coincident/worker.js"),
};

// The JS string literal of the worker's code in polyscript's xworker.js.
function templateLiteral(source) {
  const marker = "'/*@*/'+";
  const start = source.indexOf(marker);
  if (start === -1) throw new Error("polyscript's esm/worker/xworker.js has no '/*@*/' worker string: the polyscript version changed");
  const from = start + marker.length;
  if (source[from] !== '"') throw new Error("polyscript's xworker.js: the worker string is not a double-quoted literal");
  let i = from + 1;
  while (source[i] !== '"') i += source[i] === "\\" ? 2 : 1;
  return { from, to: i + 1 };
}

// What polyscript's worker imports on demand only (zip archives, TOML
// configs, Pyodide's package graph): polyscript's own build keeps them as
// chunks beside xworker.js, and xworker.js rewrites the template's
// `import("./x.js")` to URLs next to itself. Bundled in, they made the
// worker's code 7x stock's (321 KB against 43 KB) to parse at every start.
// They stay separate here too, copied beside the build's chunks.
const WORKER_LAZY = {
  "3rd-party/zip.js": "worker-zip.js",
  "3rd-party/toml.js": "worker-toml.js",
  "interpreter/pyodide_graph.js": "worker-pyodide_graph.js",
};
const workerLazy = {
  name: "polyscript-worker-lazy",
  setup(b) {
    b.onResolve({ filter: /\.js$/ }, (args) => {
      if (args.kind !== "dynamic-import") return undefined;
      const abs = resolve(args.resolveDir, args.path);
      for (const [rel, out] of Object.entries(WORKER_LAZY)) {
        if (abs === join(POLYSCRIPT, "esm", rel)) return { path: `./${out}`, external: true };
      }
      return undefined;
    });
  },
};

// wb-dist/: the compat entries' `../main.js` / `../worker.js` from bridge-js/dist
// (built before this script by `cargo xtask build`).
const toDist = {
  name: "worker-bridge-dist",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/(main|worker)\.js$/ }, (args) =>
      args.resolveDir === join(ROOT, "bridge-js/src/coincident") ? { path: join(ROOT, "bridge-js/dist", args.path.slice(3)) } : undefined);
  },
};

async function workerTemplate(extra) {
  const r = await build({
    plugins: [workerLazy, ...extra],
    entryPoints: [join(POLYSCRIPT, "esm/worker/_template.js")],
    bundle: true,
    format: "esm",
    platform: "browser",
    minify: true,
    write: false,
    alias: { "coincident/window/worker": ALIASES["coincident/window/worker"] },
    // A dynamic import inside polyscript's prebuilt zip.js that polyscript's
    // own rollup build leaves alone too.
    external: ["@zip.js/zip.js"],
    logLevel: "warning",
  });
  const code = r.outputFiles[0].text;
  if (code.includes("coincident-") && !code.includes("worker-bridge")) throw new Error("the worker template still holds coincident");
  return code;
}

// @pyscript/core's src/3rd-party/codemirror*.js and xterm-readline.js
// re-export npm packages that are its build-time devDependencies (not
// installed with it); its dist/ has them prebuilt, as stock PyScript loads
// them. So those stay external, pointing at copies of the dist chunks:
// xterm-readline directly; codemirror through src/plugins/codemirror.js,
// whose getters are taken from dist's core (some chunks export their
// namespace under a mangled name there).
const XTERM_READLINE = /3rd-party\/xterm-readline\.js$/;
const DIST_CHUNK = /^\.\/(codemirror[a-z_-]*?|xterm-readline|index)-[A-Za-z0-9_-]{8}\.js$/;
function thirdParty(outDir) {
  const dist = readdirSync(join(CORE, "dist")).filter((f) => f.endsWith(".js"));
  let readline = null;
  for (const f of dist) {
    const m = DIST_CHUNK.exec(`./${f}`);
    if (m === null) continue;
    copyFileSync(join(CORE, "dist", f), join(outDir, f));
    if (m[1] === "xterm-readline") readline = f;
  }
  const coreChunk = dist.find((f) => /^core-[A-Za-z0-9_-]{8}\.js$/.test(f));
  const getters = coreChunk && /\{(get core\(\)\{return import\("\.\/codemirror-.*?get commands\(\)\{[^}]*\})\}/.exec(readFileSync(join(CORE, "dist", coreChunk), "utf8"));
  if (!getters || readline === null) throw new Error("@pyscript/core's dist/ changed: no codemirror getters or xterm-readline chunk found");
  return {
    name: "pyscript-3rd-party",
    setup(b) {
      b.onLoad({ filter: /src\/plugins\/codemirror\.js$/ }, () => ({ contents: `export default {${getters[1]}};`, loader: "js" }));
      b.onResolve({ filter: DIST_CHUNK }, (args) => ({ path: args.path, external: true }));
      b.onResolve({ filter: XTERM_READLINE }, () => ({ path: `./${readline}`, external: true }));
    },
  };
}

async function bundle(outDir, xworker, extra = []) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const plugins = [thirdParty(outDir), ...extra];
  if (xworker !== null) {
    const file = join(OUT, `xworker.${basename(outDir)}.js`);
    writeFileSync(file, xworker);
    plugins.push({
      name: "worker-bridge-xworker",
      setup(b) {
        // class.js imports it as './xworker.js'.
        b.onResolve({ filter: /\/xworker\.js$/ }, (args) =>
          args.resolveDir.startsWith(join(POLYSCRIPT, "esm/worker")) ? { path: file } : undefined);
      },
    });
  }
  await build({
    entryPoints: { core: join(CORE, "src/core.js") },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    minify: true,
    outdir: outDir,
    chunkNames: "[name]-[hash]",
    alias: xworker !== null ? { "coincident/window/main": ALIASES["coincident/window/main"] } : {},
    nodePaths: [join(ROOT, "node_modules")],
    plugins,
    external: ["@zip.js/zip.js"],
    logLevel: "warning",
  });
  // PyScript's own assets beside its code (core.css; py-terminal loads
  // xterm.css relative to its module).
  copyFileSync(join(CORE, "src/core.css"), join(outDir, "core.css"));
  copyFileSync(join(CORE, "src/3rd-party/xterm.css"), join(outDir, "xterm.css"));
}

export async function buildPyScript() {
  mkdirSync(OUT, { recursive: true });
  const original = readFileSync(join(POLYSCRIPT, "esm/worker/xworker.js"), "utf8");
  const { from, to } = templateLiteral(original);
  const xworker = (template) => original.slice(0, from) + JSON.stringify(template) + original.slice(to);
  const template = await workerTemplate([]);
  await bundle(join(OUT, "wb"), xworker(template));
  const distTemplate = await workerTemplate([toDist]);
  // dist renames these (xtask/mangle.mjs): any left means the sources were bundled.
  const kept = INTERNAL_PROPS.filter((n) => n.startsWith("_") && distTemplate.includes(`.${n}`));
  if (kept.length > 0) throw new Error(`wb-dist's worker holds bridge-js's sources, not bridge-js/dist (${kept.join(", ")} not renamed)`);
  await bundle(join(OUT, "wb-dist"), xworker(distTemplate), [toDist]);
  // bridge-js's main thread fetches its tracker relative to its module
  // (`../gen/main-core.wasm`), which esbuild does not copy: put it there.
  mkdirSync(join(OUT, "gen"), { recursive: true });
  copyFileSync(join(ROOT, "bridge-js/gen/main-core.wasm"), join(OUT, "gen/main-core.wasm"));
  for (const [rel, out] of Object.entries(WORKER_LAZY)) {
    for (const d of ["wb", "wb-dist"]) copyFileSync(join(POLYSCRIPT, "esm", rel), join(OUT, d, out));
  }
  await bundle(join(OUT, "stock"), null);
  const wb = readFileSync(join(OUT, "wb/core.js"), "utf8");
  return { out: OUT, template: template.length, core: wb.length };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await buildPyScript();
  console.log(`PyScript built into ${r.out.slice(ROOT.length + 1)}/{wb,wb-dist,stock} (worker template ${(r.template / 1024).toFixed(0)} KiB)`);
}
