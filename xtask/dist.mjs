// bridge-js/dist: the prebuilt build the package's `exports` point at
// (docs/architecture.md, "bridge-js modules").
//
//   dist/worker.js   worker.js with every module it imports, in one file, and
//                    also exports what main.js needs of those modules
//   dist/main.js     main.js and the modules only it uses; what it shares with
//                    the worker it imports from ./worker.js
//   dist/python.js, dist/python-worker.js   the same way over ./main.js and
//                    ./worker.js
//   dist/transport-sw.js   the service-worker transport, loaded by import()
//                    only when it is used
//
// Why this shape: a worker starts only once its whole module graph is
// fetched, and each level of imports is one more request round trip; with
// this layout the worker's own graph is one file deep. The page's graph stays
// two deep (main.js, then worker.js) and the bytes a page and its worker load
// stay one copy of each module: the worker's fetch of worker.js is the file
// the page fetched already. An esbuild split build (main.js + worker.js over
// a shared chunk) costs the worker a level; two one-file bundles cost ~54 KB
// brotli against the 30 KB budget (docs/benchmarks.md, "Bundled or
// unbundled").
//
// Run by `cargo xtask build`; alone: `node xtask/dist.mjs [outdir]`.
// benches/browser/bundle-variants.mjs builds variants with `buildDist`.
import { build } from "esbuild";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { INTERNAL_PROPS, mangleCache } from "./mangle.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_SRC = join(ROOT, "bridge-js", "src");

// The modules `entry` imports statically, transitively (absolute paths), from
// an esbuild metafile's inputs (paths relative to the working directory).
function staticGraph(metafile, entry, cwd) {
  const seen = new Set();
  const todo = [entry];
  while (todo.length) {
    const rel = todo.pop();
    if (seen.has(rel)) continue;
    seen.add(rel);
    for (const i of metafile.inputs[rel]?.imports ?? []) if (i.kind === "import-statement") todo.push(i.path);
  }
  return new Set([...seen].map((r) => resolve(cwd, r)));
}

// The modules `file` imports statically, and the names it exports.
async function graphOf(file, cwd) {
  const r = await build({ entryPoints: [file], bundle: true, format: "esm", write: false, metafile: true, logLevel: "silent", outdir: "out", absWorkingDir: cwd });
  const entry = Object.keys(r.metafile.inputs).find((k) => resolve(cwd, k) === file);
  return [staticGraph(r.metafile, entry, cwd), Object.values(r.metafile.outputs).find((o) => o.entryPoint === entry).exports];
}

// Imports of `owned` modules become imports of `target` (external): the
// module is in that other file of dist, one instance per page or worker.
// With `via`, a target's text of export specifiers ("a as Name, B"), imports
// of it go through one module that re-exports those from it: one import
// statement of the target in the output instead of one per source import.
const redirect = (owned, via = null) => ({
  name: "worker-bridge-dist",
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.namespace === "worker-bridge-dist-via") return { path: args.path, external: true };
      const abs = resolve(args.resolveDir, args.path);
      for (const [target, files] of owned) {
        if (!files.has(abs)) continue;
        return via?.has(target) ? { path: target, namespace: "worker-bridge-dist-via" } : { path: target, external: true };
      }
      return undefined;
    });
    b.onLoad({ filter: /.*/, namespace: "worker-bridge-dist-via" }, (args) => ({
      contents: `export { ${via.get(args.path)} } from ${JSON.stringify(args.path)};`,
      loader: "js",
    }));
  },
});

// The names the outputs of `results` import from `file` (as the redirect
// plugin leaves it), or null when one imports it whole (`import * as`,
// `export *`) and every name has to stay.
function importedNames(results, file) {
  const names = new Set();
  const q = file.replace(/[./]/g, "\\$&");
  const named = new RegExp(`(?:import|export)\\s*\\{([^}]*)\\}\\s*from\\s*["']${q}["']`, "g");
  const whole = new RegExp(`(?:\\*\\s*(?:as\\s+[\\w$]+\\s*)?from|import\\s*\\()\\s*["']${q}["']`);
  for (const r of results) {
    for (const path of Object.keys(r.metafile.outputs)) {
      if (!path.endsWith(".js")) continue;
      const f = r.outputFiles?.find((o) => o.path === resolve(ROOT, path));
      const text = f ? f.text : readFileSync(resolve(ROOT, path), "utf8");
      if (whole.test(text)) return null;
      for (const m of text.matchAll(named)) for (const n of m[1].split(",")) if (n.trim()) names.add(n.trim().split(/\s+as\s+/)[0]);
    }
  }
  return names;
}

// a, b, ... z, A, ... Z, $0, $1, ...: export names for dist's internal ones.
const shortName = (i) => (i < 52 ? String.fromCharCode(i < 26 ? 97 + i : 39 + i) : `$${i - 52}`);

/**
 * Builds bridge-js/dist into `outdir`. `esbuildOptions` go over the defaults
 * (`{ minify: false }` for a variant of benches/browser/bundle-variants.mjs,
 * `{ write: false }` for benches/browser/size.mjs), from the sources in
 * `src` (benches/browser/base.mjs: a git revision's). Returns esbuild's results
 * of the worker, main and Python runs, each with its metafile.
 */
export async function buildDist(outdir, esbuildOptions = {}, src = DEFAULT_SRC) {
  const cwd = ROOT;
  // The library's internal property names get short ones (xtask/mangle.mjs),
  // the same in each build below: about 0.5 KB brotli of page + worker, 4 KB
  // of dist/worker.js to fetch and compile. `{ mangleProps: undefined,
  // mangleCache: undefined }` builds without.
  const srcTexts = readdirSync(src, { recursive: true }).filter((f) => f.endsWith(".js")).map((f) => readFileSync(join(src, f), "utf8"));
  const mangle = {
    mangleProps: new RegExp(`^(?:${INTERNAL_PROPS.map((n) => n.replace(/\$/g, "\\$")).join("|")})$`),
    mangleCache: mangleCache(srcTexts),
  };
  const common = {
    bundle: true, format: "esm", target: "es2022", minify: true, splitting: true,
    chunkNames: "chunk-[hash]", outdir, absWorkingDir: cwd, logLevel: "warning", metafile: true,
    ...mangle, ...esbuildOptions,
  };
  const [workerGraph, workerExports] = await graphOf(join(src, "worker.js"), cwd);
  const [mainGraph] = await graphOf(join(src, "main.js"), cwd);
  const sw = join(src, "transport-sw.js");
  const inWorker = new Set([...workerGraph]);
  // main.js and the Python entries first: dist/worker.js exports only the
  // names they import from it (an `export *` of every shared module would
  // keep each of their exports alive, used or not). A first, unwritten build
  // finds the names.
  const mainOptions = { ...common, entryPoints: [{ in: join(src, "main.js"), out: "main" }] };
  const mainOwned = [["./worker.js", inWorker], ["./transport-sw.js", new Set([sw])]];
  const pythonOptions = { ...common, entryPoints: ["python", "python-worker"].map((n) => ({ in: join(src, `${n}.js`), out: n })) };
  const pythonOwned = [["./worker.js", inWorker], ["./main.js", mainGraph]];
  const fromMain = importedNames([await build({ ...mainOptions, write: false, plugins: [redirect(mainOwned)] })], "./worker.js");
  const fromPython = importedNames([await build({ ...pythonOptions, write: false, plugins: [redirect(pythonOwned)] })], "./worker.js");
  const needed = fromMain && fromPython && [...new Set([...fromMain, ...fromPython])].sort();
  // The names worker.js does not export itself are internal to dist: they
  // cross from worker.js to main.js and python*.js as a, b, ... (shorter
  // on the wire than "DEFAULT_EVENT_WAIT_MS"); worker.js's own keep theirs.
  const own = new Set(workerExports);
  const alias = new Map((needed ?? []).filter((n) => !own.has(n)).map((n, i) => [n, shortName(i)]));
  const via = (names) => names && new Map([["./worker.js", [...names].map((n) => (alias.has(n) ? `${alias.get(n)} as ${n}` : n)).join(", ")]]);
  const main = await build({ ...mainOptions, plugins: [redirect(mainOwned, via(needed && fromMain))] });
  const python = await build({ ...pythonOptions, plugins: [redirect(pythonOwned, via(needed && fromPython))] });
  // What main.js shares with worker.js: in dist/worker.js, exported from it.
  const shared = [...mainGraph].filter((f) => workerGraph.has(f) && f !== join(src, "worker.js")).sort();
  const all = [join(src, "worker.js"), ...shared].map((f) => `export * from ${JSON.stringify("./" + f.slice(src.length + 1))};`).join("\n");
  const entry = [
    `export * from "./worker.js";`,
    needed === null ? all : `export { ${needed.map((n) => (alias.has(n) ? `${n} as ${alias.get(n)}` : n)).join(", ")} } from "worker-bridge-dist:shared";`,
  ].join("\n");
  const virtual = {
    name: "worker-bridge-dist-entry",
    setup(b) {
      b.onResolve({ filter: /^worker-bridge-dist:(worker|shared)$/ }, (a) => ({ path: a.path.slice(19), namespace: "worker-bridge-dist" }));
      b.onLoad({ filter: /.*/, namespace: "worker-bridge-dist" }, (a) => ({ contents: a.path === "worker" ? entry : all, resolveDir: src, loader: "js" }));
    },
  };
  // The service-worker transport an entry of its own, so that the page and
  // the worker import() one file, transport-sw.js.
  // `//# allFunctionsCalledOnLoad` as the first line: V8 (Chromium 136+)
  // compiles every function of these files as it loads them, not each on its
  // first call. Compiling the start-up and first call's path lazily, on both
  // threads, cost about 2 ms of a worker's start; compiling the rest costs
  // less than that (docs/benchmarks.md, "Start-up (stop 15)"). The
  // per-function form would compile only the start's functions; Chromium
  // does not follow it by default yet ("Start-up (stop 17)"). A hot file
  // with the hint and a cold one without costs the worker a module level,
  // more than the compile it saves ("Start-up (stop 18)").
  const worker = await build({
    ...common,
    entryPoints: [{ in: "worker-bridge-dist:worker", out: "worker" }, { in: sw, out: "transport-sw" }],
    banner: { js: "//# allFunctionsCalledOnLoad" },
    plugins: [virtual],
  });
  return [worker, main, python];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = resolve(process.argv[2] ?? join(ROOT, "bridge-js", "dist"));
  await buildDist(outdir);
  // Link check: every name main.js and python.js import from ./worker.js and
  // ./main.js exists (a missing one is a SyntaxError here, not in a user's
  // page). python-worker.js is left out: it starts an interpreter on import.
  for (const f of ["main.js", "python.js"]) await import(pathToFileURL(join(outdir, f)).href);
}
