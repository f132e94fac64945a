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
  await lib("ours", oursEntries);
  if (Object.keys(wasm).length) {
    // Counted with the JS only when the bundled JS names the wasm file.
    const js = await Promise.all(Object.values(oursEntries).map((c) => bundleText(root, c).catch(() => "")));
    const used = Object.keys(wasm).some((f) => js.some((t) => t.includes(f.replace(/_bg\.wasm$/, ""))));
    await lib("ours+wasm", oursEntries, wasm);
    if (out["ours+wasm"]) out["ours+wasm"].note = used ? "the JS loads this wasm" : "the JS does not load this wasm yet";
  }
  await lib("coincident", {
    "window/main": `export { default } from "coincident/window/main";`,
    "window/worker": `export { default } from "coincident/window/worker";`,
  });
  await lib("comlink", { comlink: `export * from "comlink";` });
  return out;
}
