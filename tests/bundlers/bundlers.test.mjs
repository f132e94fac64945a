// The shipped package in the tools users build with (issue 17, item 5): a
// Vite and a webpack production build of the same small app
// (tests/bundlers/app: `new BridgeWorker(new URL("./worker.js",
// import.meta.url), { type: "module" })`, a synchronous call, `document`
// from the worker, a main->worker call, the service worker beside
// index.html), each opened in Chromium on the atomics transport (COOP/COEP)
// and on the service-worker transport (no headers). The builds import
// `worker-bridge` by its package name and use the configs docs/api.md
// ("Bundlers") shows. Output: tests/bundlers/.build/ (git-ignored).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build as viteBuild } from "vite";
import webpack from "webpack";
import { startServer } from "../server.mjs";
import { launchBrowser } from "../e2e/harness.mjs";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

async function buildVite() {
  await viteBuild({ configFile: here("./vite.config.mjs") });
  return here("./.build/vite");
}

async function buildWebpack() {
  const { default: config } = await import("./webpack.config.mjs");
  const stats = await new Promise((resolve, reject) =>
    webpack(config, (err, s) => (err ? reject(err) : resolve(s))));
  const info = stats.toJson({ all: false, errors: true, warnings: true });
  // A warning here is one every user of the package would see.
  assert.deepEqual([...info.errors, ...info.warnings].map((e) => e.message), [], "webpack errors or warnings");
  return here("./.build/webpack");
}

let browser;
const builds = {};
before(async () => {
  browser = await launchBrowser();
  // One after the other: both bundlers use every core they get.
  builds.vite = await buildVite();
  builds.webpack = await buildWebpack();
});
after(async () => {
  await browser?.close();
});

async function openApp(root, { isolated, sw }) {
  const server = await startServer({ root, isolated });
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  page.on("response", (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${new URL(r.url()).pathname}`); });
  try {
    // With the service worker the page reloads once when it first installs
    // it (docs/service-worker.md), so wait for the result, not the load.
    await page.goto(`${server.url}/${sw ? "?sw" : ""}`);
    const handle = await page.waitForFunction(() => window.appResult, null, { timeout: 60_000 })
      .catch((e) => { throw new Error(`${e.message}\n${errors.join("\n")}`); });
    const result = await handle.jsonValue();
    if (result.error) return { result, errors };
    const made = await page.locator("#from-worker").textContent({ timeout: 5_000 });
    return { result, made, errors, crossOriginIsolated: await page.evaluate(() => crossOriginIsolated) };
  } finally {
    await ctx.close();
    await server.close();
  }
}

for (const bundler of ["vite", "webpack"]) {
  test(`${bundler}: the built output holds a bundled worker and the service worker`, () => {
    const files = readdirSync(builds[bundler], { recursive: true }).map(String);
    assert.ok(files.includes("index.html"), files.join(", "));
    const sw = readFileSync(`${builds[bundler]}/bridge-sw.js`, "utf8");
    assert.match(sw, /installBridgeServiceWorker/, "bridge-sw.js is worker-bridge's service worker, unchanged");
    // No file still imports the package by its bare name: a worker shipped
    // unbundled would (Vite's asset handling of `new URL(...)`).
    for (const f of files.filter((f) => f.endsWith(".js") && f !== "bridge-sw.js")) {
      const js = readFileSync(`${builds[bundler]}/${f}`, "utf8");
      const bare = /(?:^|[;}\n])\s*import\s*(?:[\w{},*\s$]*from\s*)?["']worker-bridge|\bimport\s*\(\s*["']worker-bridge/m;
      assert.ok(!bare.test(js), `${f} imports worker-bridge unbundled`);
      assert.ok(!/data:(text|application)\/javascript;base64/.test(js), `${f} inlines a script as a data: URL`);
    }
  });

  for (const [name, opts, transport] of [
    ["atomics (COOP/COEP)", { isolated: true, sw: false }, "atomics"],
    ["service worker (no COOP/COEP)", { isolated: false, sw: true }, "service-worker"],
  ]) {
    test(`${bundler}: the built app runs in Chromium, ${name}`, async () => {
      const { result, made, errors, crossOriginIsolated } = await openApp(builds[bundler], opts);
      assert.equal(result.error, undefined, `${result.error}\n${errors.join("\n")}`);
      assert.equal(crossOriginIsolated, opts.isolated);
      assert.equal(result.transport, transport);
      assert.equal(result.mainTransport, transport);
      assert.equal(result.native, transport === "atomics");
      assert.equal(result.sum, 5, "synchronous worker->main call");
      assert.equal(result.title, "bundled app", "document.title read from the worker");
      assert.equal(made, "made in a worker, 5", "element created by the worker");
      assert.equal(result.twice, 42, "main->worker call");
      assert.deepEqual(errors, []);
    });
  }
}

// Which build each kind of user gets from `exports` (bridge-js/package.json;
// docs/architecture.md, "bridge-js modules"): a page without a bundler (an
// import map, a CDN: the `import` / `default` conditions) gets
// bridge-js/dist, where the worker's module graph is one file (each level of
// imports is a round trip before a worker starts); bundlers (`module`) and
// Node get the sources, which they bundle or run as they are.
test("exports: dist for pages without a bundler, a one-file worker graph; sources for bundlers and Node", async () => {
  const { build } = await import("esbuild");
  const resolved = async (spec, conditions) => {
    const r = await build({
      stdin: { contents: `import ${JSON.stringify(spec)};`, resolveDir: here("./app"), loader: "js" },
      bundle: true, write: false, metafile: true, format: "esm", logLevel: "silent",
      platform: "neutral", conditions, mainFields: [],
    });
    const inputs = Object.keys(r.metafile.inputs);
    return { file: inputs.find((k) => k !== "<stdin>" && r.metafile.inputs["<stdin>"].imports.some((i) => i.path === k)), r };
  };
  for (const [spec, name] of [["worker-bridge", "main"], ["worker-bridge/worker", "worker"], ["worker-bridge/python", "python"]]) {
    assert.match((await resolved(spec, ["import"])).file, new RegExp(`bridge-js/dist/${name}\\.js$`), `${spec}, no bundler`);
    assert.match((await resolved(spec, ["module", "import"])).file, new RegExp(`bridge-js/src/${name}\\.js$`), `${spec}, bundler`);
    assert.match(import.meta.resolve(spec), new RegExp(`bridge-js/src/${name}\\.js$`), `${spec}, Node`);
  }
  const { file, r } = await resolved("worker-bridge/worker", ["import"]);
  const statics = r.metafile.inputs[file].imports.filter((i) => i.kind === "import-statement");
  assert.deepEqual(statics, [], "dist/worker.js imports nothing statically");
  // V8's compile hint is its first line, where V8 looks for it (xtask/dist.mjs)
  assert.equal(readFileSync(here("../../bridge-js/dist/worker.js"), "utf8").split("\n")[0], "//# allFunctionsCalledOnLoad");
  // The page's graph: main.js takes what it shares with the worker from the
  // worker's own file, so both threads run one copy of each module's code.
  const main = await resolved("worker-bridge", ["import"]);
  const fromMain = main.r.metafile.inputs[main.file].imports.filter((i) => i.kind === "import-statement").map((i) => i.path);
  assert.ok(fromMain.some((p) => p.endsWith("bridge-js/dist/worker.js")), fromMain.join(" "));
});

// bridge-js/dist renames the library's internal property names
// (xtask/mangle.mjs, esbuild's `mangleProps`). A name on that list must not
// be one that anything outside the dist build reads or writes by name: the
// rules at the top of xtask/mangle.mjs, checked against the files here.
test("dist: the properties it renames are internal (no API, message field, glue, Python, test or built-in name)", async () => {
  const { INTERNAL_PROPS } = await import("../../xtask/mangle.mjs");
  const root = here("../../");
  const walk = (dir, re, out = []) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === "node_modules" || e.name === "target" || e.name.startsWith(".")) continue;
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(p, re, out);
      else if (re.test(e.name)) out.push(p);
    }
    return out;
  };
  const words = (files) => new Set(files.flatMap((f) => readFileSync(f, "utf8").match(/[A-Za-z_$][\w$]*/g) ?? []));
  const src = `${root}bridge-js/src`;
  const outside = {
    "public API (bridge-js/types)": words(walk(`${root}bridge-js/types`, /\.ts$/)),
    // the service worker, the Rust glue and the compat layer load the
    // sources, never dist; each reads our objects or messages by name
    "sw.js, rust.js, rust-serve.js, vite.js, coincident/": words([
      ...["sw.js", "rust.js", "rust-serve.js", "vite.js"].map((f) => `${src}/${f}`),
      ...walk(`${src}/coincident`, /\.js$/),
    ]),
    "Python code": words(walk(root, /\.py$/)),
    // read by tests and by the browser benchmark's adapters and patches (some load dist)
    "tests and benchmarks": new Set(
      [...walk(`${root}tests`, /\.(m?js|html)$/), ...walk(`${root}bridge-js/test`, /\.m?js$/), ...walk(`${root}benches/browser`, /\.(m?js|html)$/)]
        .flatMap((f) => [...readFileSync(f, "utf8").matchAll(/\.([A-Za-z_$][\w$]*)/g)].map((m) => m[1])),
    ),
    // the start-up message a page posts (it may run a worker built from the sources)
    "start-up message fields": new Set([...readFileSync(`${src}/worker.js`, "utf8").matchAll(/\binit\.(\w+)/g)].map((m) => m[1])),
  };
  // esbuild leaves quoted names as they are (`o["x"]`, `{ "x": 1 }`)
  const quoted = new Set(walk(src, /\.js$/).flatMap((f) => [...readFileSync(f, "utf8").matchAll(/(["'`])([A-Za-z_$][\w$]*)\1/g)].map((m) => m[2])));
  const builtin = new Set();
  for (const k of Object.getOwnPropertyNames(globalThis)) {
    builtin.add(k);
    const v = globalThis[k];
    for (let o of [v, v?.prototype]) for (; o != null && (typeof o === "object" || typeof o === "function"); o = Object.getPrototypeOf(o)) for (const n of Object.getOwnPropertyNames(o)) builtin.add(n);
  }
  const bad = [];
  for (const n of INTERNAL_PROPS) {
    for (const [what, set] of Object.entries(outside)) if (set.has(n)) bad.push(`${n}: ${what}`);
    if (quoted.has(n)) bad.push(`${n}: quoted in bridge-js/src`);
    if (builtin.has(n)) bad.push(`${n}: a built-in's property`);
  }
  assert.deepEqual(bad, []);
  // and the build renamed them: none is left as a property name in the files a page loads
  for (const f of ["main.js", "worker.js"]) {
    const text = readFileSync(`${root}bridge-js/dist/${f}`, "utf8");
    const left = INTERNAL_PROPS.filter((n) => text.includes(`.${n}`) && new RegExp(`\\.${n.replace(/\$/g, "\\$")}\\b`).test(text));
    assert.deepEqual(left, [], `dist/${f}`);
  }
});
