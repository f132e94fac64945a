// Bytes shipped: each entry bundled and minified with esbuild, then brotli'd
// with node's zlib (quality 11), summed per library.
import { build } from "esbuild";
import { brotliCompressSync, constants } from "node:zlib";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const brotli = (buf) =>
  brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;

async function bundle(root, contents) {
  const code = new TextEncoder().encode(await bundleText(root, contents));
  return { raw: code.length, brotli: brotli(code) };
}

// esbuild options of the split builds below (nothing is written to disk).
const splitOptions = (root) => ({
  bundle: true,
  minify: true,
  splitting: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  outdir: join(root, ".size-out"),
  write: false,
  metafile: true,
  logLevel: "silent",
});

// One entry with code splitting: what the page loads at once (the entry and
// the chunks it imports statically) and what it loads only on demand (chunks
// reached by a dynamic import()), each as { raw, brotli }.
async function bundleSplit(root, contents) {
  const r = await build({
    stdin: { contents, resolveDir: root, loader: "js", sourcefile: "entry.js" },
    ...splitOptions(root),
  });
  const files = new Map(r.outputFiles.map((f) => [f.path, f.contents]));
  const outputs = r.metafile.outputs;
  const abs = (rel) => [...files.keys()].find((p) => p.endsWith(rel.replace(/^.*?\.size-out/, ".size-out")));
  const entry = Object.keys(outputs).find((k) => outputs[k].entryPoint !== undefined);
  const eager = new Set();
  const visit = (k) => {
    if (eager.has(k)) return;
    eager.add(k);
    for (const i of outputs[k].imports) if (i.kind === "import-statement" && outputs[i.path]) visit(i.path);
  };
  visit(entry);
  const size = (keys) => {
    const code = Buffer.concat(keys.map((k) => files.get(abs(k))));
    return { raw: code.length, brotli: keys.reduce((s, k) => s + brotli(files.get(abs(k))), 0) };
  };
  const lazy = Object.keys(outputs).filter((k) => !eager.has(k) && k.endsWith(".js"));
  return { eager: size([...eager]), lazy: lazy.length ? size(lazy) : null };
}

// bridge-js/dist as xtask/dist.mjs builds it: main.js, worker.js and what
// they import statically (the page loads main.js and worker.js, the worker
// worker.js: the page's fetch of it serves the worker with any HTTP caching).
async function bundleDist(root) {
  const { buildDist } = await import("../../xtask/dist.mjs");
  const results = await buildDist(join(root, ".size-out"), { write: false, logLevel: "silent" });
  const parts = {};
  for (const [r, entry] of [[results[0], "worker"], [results[1], "main"]]) {
    const outputs = r.metafile.outputs;
    const byOut = new Map(r.outputFiles.map((f) => [f.path.slice(f.path.indexOf(".size-out")), f.contents]));
    const visit = (k) => {
      const name = k.split("/").pop();
      if (parts[name] !== undefined) return;
      const c = byOut.get(k.slice(k.indexOf(".size-out")));
      parts[name] = { raw: c.length, brotli: brotli(c) };
      for (const i of outputs[k].imports) if (i.kind === "import-statement" && outputs[i.path]) visit(i.path);
    };
    visit(Object.keys(outputs).find((k) => k.endsWith(`/${entry}.js`)));
  }
  return parts;
}

async function bundleText(root, contents) {
  const r = await build({
    stdin: { contents, resolveDir: root, loader: "js", sourcefile: "entry.js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  return r.outputFiles[0].text;
}

/** @returns {Promise<Record<string, {parts: Record<string, {raw, brotli}>, total: number, error?: string}>>} */
export async function measureSizes(root) {
  const out = {};
  const lib = async (name, entries, extra = {}) => {
    const parts = {};
    try {
      for (const [part, contents] of Object.entries(entries)) parts[part] = await bundle(root, contents);
      for (const [part, v] of Object.entries(extra)) parts[part] = v;
      out[name] = { parts, total: Object.values(parts).reduce((s, p) => s + p.brotli, 0) };
    } catch (e) {
      out[name] = { parts, total: null, error: String(e?.errors?.[0]?.text ?? e?.message ?? e) };
    }
  };
  const ours = join(root, "bridge-js");
  const wasm = {};
  const pkg = join(ours, "pkg");
  if (existsSync(pkg)) {
    for (const f of readdirSync(pkg).filter((f) => f.endsWith(".wasm"))) {
      const b = readFileSync(join(pkg, f));
      wasm[f] = { raw: b.length, brotli: brotli(b) };
    }
  }
  const oursEntries = {
    main: `export * from "./bridge-js/src/main.js";`,
    worker: `export * from "./bridge-js/src/worker.js";`,
  };
  // What a page on the Atomics transport loads; the service-worker transport
  // (a dynamic import(), only with the serviceWorker option on a page that is
  // not cross-origin isolated) and the tracker's wasm2js build (a dynamic
  // import() where a CSP forbids compiling wasm) are counted apart, as
  // "ours-lazy".
  const lazyParts = {};
  try {
    const eagerParts = {};
    for (const [part, contents] of Object.entries(oursEntries)) {
      const { eager, lazy } = await bundleSplit(root, contents);
      eagerParts[part] = eager;
      if (lazy) lazyParts[`${part}, on demand`] = lazy;
    }
    out["ours-per-entry"] = {
      parts: eagerParts,
      total: Object.values(eagerParts).reduce((s, p) => s + p.brotli, 0),
      note: "each entry bundled alone: the shared code counted twice",
    };
    if (Object.keys(lazyParts).length) {
      out["ours-lazy"] = {
        parts: lazyParts,
        total: Object.values(lazyParts).reduce((s, p) => s + p.brotli, 0),
        note: "loaded only by the service-worker transport, and the tracker's JS build under a CSP that forbids wasm",
      };
    }
  } catch (e) {
    out["ours-per-entry"] = { parts: {}, total: null, error: String(e?.errors?.[0]?.text ?? e?.message ?? e) };
  }
  try {
    const parts = await bundleDist(root);
    // The main thread's tracker, which main.js fetches at load (main-core.js):
    // its own file, compressed alone. (Its wasm2js build is imported only on
    // a page whose CSP forbids compiling wasm: on demand, not counted.)
    const core = join(ours, "gen", "main-core.wasm");
    if (existsSync(core) && (await bundleText(root, oursEntries.main)).includes("main-core.wasm")) {
      const b = readFileSync(core);
      parts["main-core.wasm"] = { raw: b.length, brotli: brotli(b) };
    }
    // As bridge-js/dist ships them (xtask build): the row the target is judged on.
    out.ours = {
      parts,
      total: Object.values(parts).reduce((s, p) => s + p.brotli, 0),
      note: "as bridge-js/dist ships them: main.js imports the shared modules from the worker's worker.js",
    };
  } catch (e) {
    out.ours = { parts: {}, total: null, error: String(e?.errors?.[0]?.text ?? e?.message ?? e) };
  }
  if (Object.keys(wasm).length) {
    // Counted with the JS only when the bundled JS names the wasm file.
    const js = await Promise.all(Object.values(oursEntries).map((c) => bundleText(root, c).catch(() => "")));
    const used = Object.keys(wasm).some((f) => js.some((t) => t.includes(f.replace(/_bg\.wasm$/, ""))));
    if (out.ours.total != null) {
      const parts = { ...out.ours.parts, ...wasm };
      out["ours+wasm"] = { parts, total: Object.values(parts).reduce((s, p) => s + p.brotli, 0) };
    } else {
      await lib("ours+wasm", oursEntries, wasm);
    }
    if (out["ours+wasm"]) out["ours+wasm"].note = used ? "the JS loads this wasm" : "the JS does not load this wasm yet";
  }
  await lib("coincident", {
    "window/main": `export { default } from "coincident/window/main";`,
    "window/worker": `export { default } from "coincident/window/worker";`,
  });
  await lib("comlink", { comlink: `export * from "comlink";` });
  return out;
}
