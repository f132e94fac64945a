// Why do calls through an esbuild bundle of bridge-js run slower in V8 than
// through the unbundled modules? (issue 17, item 4; docs/benchmarks.md,
// "Bundled or unbundled"). Builds bridge-js's main and worker entries with
// several esbuild settings into benches/browser/.build/variants/<name>/, and
// times the same cases for each, interleaved in one Chromium run (A B C ...,
// then reversed), with the benchmark's own page and worker adapters.
//
//   node benches/browser/bundle-variants.mjs [--reps 5] [--only small,title]
//        [--variants src,dist,...] [--busy N [--alternate]] [--cache] [--args "chromium switches"]
//   node benches/browser/bundle-variants.mjs --micro [--reps 5] [--variants ...]
//
// --micro times micro/codec-entry.js instead: one thread, no wake-ups, the
// codec and mailbox work of a small call (encode, send, receive, decode,
// both ways), bundled each way; minimum over trials per page, median over
// pages. CPU-bound, so it measures code speed even on a busy machine.
//
// `src` is bridge-js/src as it is, `dist` bridge-js/dist as `cargo xtask
// build` wrote it; the others are built here (see VARIANTS).
import { chromium } from "playwright-core";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadavg } from "node:os";
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { startServer, REPO_ROOT } from "../../tests/server.mjs";
import { startBusy, busyArg } from "../busy.mjs";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const REPS = Number(opt("--reps", 5));
const CASES = {
  small: { n: 20000, warm: 2000, unit: "us/call" },
  title: { n: 10000, warm: 1000, unit: "us/read" },
  m2w: { n: 5000, warm: 500, unit: "us/call" },
  smallBest: { n: 20000, warm: 2000, unit: "us/call, best 64-call window" },
  titleBest: { n: 10000, warm: 1000, unit: "us/read, best 64-read window" },
  m2wBest: { n: 5000, warm: 500, unit: "us/call, best 64-call window" },
  // run.mjs's large-payload cases
  str64k: { n: 1000, warm: 100, unit: "us/call" },
  f64: { n: 100, warm: 10, unit: "us/call" },
  // page.js's start-up case: median of 10 starts, with its phases
  startup: { n: 10, unit: "ms, new Worker to first sync call", scale: 1 },
  // the same, one start a page: the first, the one a user waits for (the
  // page's side of the library compiles and runs its set-up for the first time)
  startFirst: { page: "startup", n: 1, unit: "ms, a page's first BridgeWorker to its first sync call", scale: 1 },
};
const ONLY = opt("--only", "small,title").split(",");

const base = { bundle: true, format: "esm", platform: "browser", target: "es2022", splitting: true, logLevel: "silent" };
// name -> esbuild options over `base` (null, or `from: "src"`: not built here)
export const VARIANTS = {
  src: null,
  dist: null,
  "split-min": { minify: true },
  "split-nomin": {},
  "split-min-ws": { minifyWhitespace: true },
  "split-min-syntax": { minifySyntax: true },
  "split-min-ids": { minifyIdentifiers: true },
  "one-nomin": { splitting: false },
  "one-min": { splitting: false, minify: true },
  "split-min-keepnames": { minify: true, keepNames: true },
  "split-min-esnext": { minify: true, target: "esnext" },
  // Rollup keeps top-level const/let/class as they are (esbuild's bundler
  // turns them into var); -min minifies each chunk with esbuild's transform,
  // which keeps them too.
  // The sources with BridgeWorker options (the spin/park policy, issue 17
  // item 2): `spin: 0` turns off main's polling after serving a call
  // (main->worker calls poll only with `callSpin`, off by default).
  "src-spin0": { from: "src", options: { spin: 0 } },
  // ... and the worker's blocking wait parks at once (Mailbox.spinMicros, 50 by default)
  "src-noback": { from: "src", statics: { backoffMs: 0, stallMs: 0.005, wakeGraceMs: 0.03 } },
  "src-nospin": { from: "src", options: { spin: 0 }, workerSpinMicros: 0 },
  // main->worker calls poll again (the page for the reply, the worker's idle
  // loop for the next call; off by default since "Main->worker calls" in
  // docs/benchmarks.md)
  "src-callspin": { from: "src", options: { callSpin: 0.05 } },
  // the worker's spin stops, and the next waits park at once, after a spin
  // burst that took far longer than its cost (micro/preempt-patch.js)
  "src-preempt": { from: "src", workerPatch: "/benches/browser/micro/preempt-patch.js" },
  // another library's adapter, timed in the same run for the ratio
  coincident: { lib: "coincident" },
  // bridge-js/src as committed (HEAD), beside the working tree's `src`:
  // git archive HEAD bridge-js/src | tar -x -C benches/browser/.build/head-src
  "head-src": { fromDir: "/benches/browser/.build/head-src/bridge-js/src" },
  // the wait-state spin policy (mailbox.js) with other stall / grace times
  "src-stall10": { from: "src", statics: { stallMs: 0.01, wakeGraceMs: 0.01 } },
  "src-stall5": { from: "src", statics: { stallMs: 0.005, wakeGraceMs: 0 } },
  "src-s5g10": { from: "src", statics: { stallMs: 0.005, wakeGraceMs: 0.01 } },
  "src-s5g20": { from: "src", statics: { stallMs: 0.005, wakeGraceMs: 0.02 } },
  // ... and a postMessage doorbell beside each Atomics.notify, both ways
  // (main.js rings when the worker cannot waitAsync): which wake comes first
  "src-nospin-bell": {
    from: "src", options: { spin: 0 }, workerSpinMicros: 0,
    mainPost: `\nfor (const k of ["_bellToWorker", "_doorbell"]) Object.defineProperty(BridgeWorker.prototype, k, { get() { return true; }, set() {}, configurable: true });\n`,
  },
  // one side from the sources, the other from bridge-js/dist: which side's
  // build makes a call slower (a page and its worker load one each)
  "main-src+worker-dist": { from: "src", workerFrom: "/bridge-js/dist" },
  "main-dist+worker-src": { from: "src", mainFrom: "/bridge-js/dist" },
  "head-nospin": { fromDir: "/benches/browser/.build/head-src/bridge-js/src", options: { spin: 0 }, workerSpinMicros: 0 },
  // xtask/dist.mjs's layout (what `cargo xtask build` writes now): worker.js
  // one file that also exports the shared modules, main.js imports them from it
  "dist-mjs": { distMjs: true },
  "dist-mjs-nomin": { distMjs: true, minify: false },
  // the same builds with their waits and wake-ups counted (micro/count-patch.js)
  "src-count": { from: "src", count: true },
  // mailbox capacity (bytes a frame): a 1 MiB Float64Array plus the
  // message's header is two frames at the default 1 MiB
  "src-cap2m": { from: "src", options: { capacity: 2 * 1048576 } },
  "src-cap4m": { from: "src", options: { capacity: 4 * 1048576 } },
  "src-cap1m64k": { from: "src", options: { capacity: 1048576 + 65536 } },
  "src-cap4m64k": { from: "src", options: { capacity: 4 * 1048576 + 65536 } },
  "src-cap16m": { from: "src", options: { capacity: 16 * 1048576 } },
  // ... and smaller: a 1 MiB array in 5 frames (256 KiB) or 2 (1 MiB), the cost of a frame
  "src-cap256k": { from: "src", options: { capacity: 262144 } },
  "src-cap256k-count": { from: "src", count: true, options: { capacity: 262144 } },
  "src-cap1m": { from: "src", options: { capacity: 1048576 } },
  "src-cap2m-count": { from: "src", count: true, options: { capacity: 2 * 1048576 } },
  "dist-mjs-count": { distMjs: true, count: true },
  // bridge-js/dist as built, counted: what `dist` runs, beside `src-count`
  "dist-count": { fromDir: "/bridge-js/dist", count: true },
  // ... with no back-off after signs of a crowded machine (Mailbox.backoffMs 0)
  "src-count-noback": { from: "src", count: true, statics: { backoffMs: 0 } },
  // a peer woken by a notify counts as crowded only after 200 us (0.05 by
  // default): main's waitAsync wake-up is an event-loop task, often slower
  "src-grace200": { from: "src", statics: { wakeGraceMs: 0.2 } },
  "src-back0": { from: "src", statics: { backoffMs: 0 } },
  // ... on one side only: main's back-off makes every call for 1 ms pay a
  // waitAsync wake-up; the worker's a futex wake-up
  "src-mainback0": { from: "src", mainStatics: { backoffMs: 0 } },
  "src-workerback0": { from: "src", workerStatics: { backoffMs: 0 } },
  "src-count-mainback0": { from: "src", count: true, mainStatics: { backoffMs: 0 } },
  "src-count-grace200": { from: "src", count: true, statics: { wakeGraceMs: 0.2 } },
  // a spinning side gives up after 100 us of a still peer instead of 20
  "src-stall100": { from: "src", statics: { stallMs: 0.1 } },
  // the worker parks (Atomics.wait) this long for main's next call after
  // serving one, before it goes back to its event loop (`callPark`, 2 ms by
  // default; 0: as before stop 15)
  "src-park0": { from: "src", options: { callPark: 0 } },
  "src-park0.5": { from: "src", options: { callPark: 0.5 } },
  "src-park1": { from: "src", options: { callPark: 1 } },
  "src-park4": { from: "src", options: { callPark: 4 } },
  // ... and the page polls 20 / 50 us for the reply (callSpin)
  "src-park-cs20": { from: "src", options: { callSpin: 0.02 } },
  "src-park-cs50": { from: "src", options: { callSpin: 0.05 } },
  "src-park0-count": { from: "src", count: true, options: { callPark: 0 } },
  "head-src-count": { fromDir: "/benches/browser/.build/head-src/bridge-js/src", count: true },
  "src-park1-count": { from: "src", count: true, options: { callPark: 1 } },
  "src-park4-count": { from: "src", count: true, options: { callPark: 4 } },
  // V8's explicit compile hint (Chromium 136+): xtask/dist.mjs puts
  // `//# allFunctionsCalledOnLoad` on the first line of dist/worker.js;
  // -nohint builds it without, -hint-main adds it to dist/main.js too
  "dist-nohint": { distMjs: true, unhint: ["worker.js", "transport-sw.js"] },
  "dist-hint-main": { distMjs: true, hint: ["main.js"] },
  // the worker adapter with ours-api.js's code in it rather than imported:
  // the same module shape as coincident's adapter (its file, the library,
  // common.worker.js), one request fewer at the second level
  "dist-inline": { fromDir: "/bridge-js/dist", inlineApi: true },
  "dist-mjs-inline": { distMjs: true, inlineApi: true },
  rollup: { rollup: true },
  "rollup-min": { rollup: true, minify: true },
  // stop 16 (start-up, issue 17 item 4): `esbuild` options over
  // xtask/dist.mjs's. `dist-mjs` renames the library's internal property
  // names (xtask/mangle.mjs); -nomangle is the same build without
  "dist-nomangle": { distMjs: true, esbuild: { mangleProps: undefined, mangleCache: undefined } },
  // stop 17 (the worker's compile): dist-mjs with source maps beside its
  // files, for coverage-worker.mjs's bytes by source module
  "dist-mjs-map": { distMjs: true, esbuild: { sourcemap: true } },
  // V8's per-function compile hint (`//# functionsCalledOnLoad=<VLQ deltas
  // of positions>`) instead of the file-wide one: only the functions that ran
  // at start compile eagerly. Chromium 156 follows it only with the feature
  // JavaScriptCompileHintsPerFunctionMagicRuntime (off by default; in
  // trace-startup.mjs, --args). The positions come from
  // `node benches/browser/coverage-worker.mjs --positions benches/browser/.build/hot.json`
  // over bridge-js/dist/worker.js as built (the same text, checked by hash).
  "dist-perfn": { distMjs: true, perFunction: "benches/browser/.build/hot.json" },
  // no file-wide hint; instead each function declaration that ran at start
  // becomes `let f=(function f(...){...});`: V8 compiles a function
  // expression right after "(" eagerly (its PIFE heuristic), in any Chromium.
  // Class methods, 3/4 of the start path's bytes, have no such form.
  "dist-pife": { distMjs: true, pife: "benches/browser/.build/hot.json" },
  // stop 18 (a hot file and a cold one, issue 17 item 4): what splitting
  // dist/worker.js would cost and save, timed before moving any source. The
  // functions that did not run at start (hot.json's `cold`: each outermost
  // one, from coverage-worker.mjs --positions) are cut out of dist/worker.js,
  // each left as an empty stub of its shape (`m(){}`, `function f(){}`,
  // `()=>{}`), keeping the file-wide hint: the hot file of a split, compiled
  // eagerly, whole. Their text goes into cold.js, as members of an object
  // literal in a function nothing calls, without a hint: V8 pre-parses it as
  // it would the real cold file. The page's main.js imports an unchanged
  // copy of dist/worker.js (worker-page.js; the page loads it before the
  // timed start either way). Only a start can run on these builds (a
  // session reaches the stubs); the benchmark checks the first two calls'
  // results.
  //   -hot       the hot file alone: the most a split can save
  //   -cold      + cold.js imported statically (one more module level)
  //   -dyncold   + `await import("./cold.js")` at the end of worker.js
  //   dist-level dist/worker.js as built + an empty module imported statically
  "dist-hot": { distMjs: true, hot: "benches/browser/.build/hot.json" },
  "dist-hot-cold": { distMjs: true, hot: "benches/browser/.build/hot.json", cold: { file: "benches/browser/.build/hot.json", how: "static" } },
  "dist-hot-dyncold": { distMjs: true, hot: "benches/browser/.build/hot.json", cold: { file: "benches/browser/.build/hot.json", how: "dynamic" } },
  "dist-level": { distMjs: true, cold: { how: "static" } },
};
const names = opt("--variants", "src,dist,split-min,split-nomin").split(",");
// lib:NAME times benches/browser/libs/NAME.{main,worker}.js as it is (a path
// relative to libs/, e.g. lib:../.build/exp/x for an adapter made for one run)
for (const n of names) if (n.startsWith("lib:")) VARIANTS[n] = { lib: n.slice(4) };
// `dir:<served path>`: a copy of bridge-js/src put there by hand (an
// experiment), timed like `src`, e.g. dir:/benches/browser/.build/try1/src
for (const n of names) if (n.startsWith("dir:")) VARIANTS[n] = { fromDir: n.slice(4) };
// `distdir:<served path>`: xtask/dist.mjs's build (what `cargo xtask build`
// writes) of a copy of bridge-js/src put there by hand, so an experiment is
// timed as shipped, e.g. distdir:/benches/browser/.build/try1/src
for (const n of names) if (n.startsWith("distdir:")) VARIANTS[n] = { distMjs: true, src: n.slice(8) };
// `dircount:<served path>`: the same with its waits and wake-ups counted
for (const n of names) if (n.startsWith("dircount:")) VARIANTS[n] = { fromDir: n.slice(9), count: true };
for (const n of names) if (!(n in VARIANTS)) throw new Error(`unknown variant ${n}; known: ${Object.keys(VARIANTS).join(" ")}`);

const OUT = join(REPO_ROOT, "benches", "browser", ".build", "variants");
const libs = join(REPO_ROOT, "benches", "browser", "libs");

// Every worker adapter made here imports this first, so the startup case
// splits the worker's module graph into fetched and evaluated (page.js).
const EVAL_MARK = "/benches/browser/.build/variants/teval.js";

// The `ours` adapters, pointed at one variant's files.
async function prepare(name) {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, "teval.js"), "globalThis.__tEval = performance.timeOrigin + performance.now();\n");
  const dir = join(OUT, name.replace(/[^\w.-]+/g, "_"));
  if (VARIANTS[name]?.lib) {
    // another library's adapters, with the mark before them
    const lib = VARIANTS[name].lib;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "lib.main.js"), `export * from "/benches/browser/libs/${lib}.main.js";\n`);
    // a copy, not an import of it: the same number of module levels as the original
    const worker = readFileSync(join(libs, `${lib}.worker.js`), "utf8")
      .replaceAll('from "../', 'from "/benches/browser/').replaceAll('from "./', 'from "/benches/browser/libs/');
    writeFileSync(join(dir, "lib.worker.js"), `import "${EVAL_MARK}";\n${worker}`);
    return `../.build/variants/${name.replace(/[^\w.-]+/g, "_")}/lib`;
  }
  mkdirSync(dir, { recursive: true });
  // A bundle's main thread fetches its tracker as ../gen/main-core.wasm
  // (main-core.js), which esbuild does not copy: one copy beside the variants.
  const core = join(REPO_ROOT, "bridge-js", "gen", "main-core.wasm");
  if (existsSync(core)) {
    mkdirSync(join(OUT, "gen"), { recursive: true });
    cpSync(core, join(OUT, "gen", "main-core.wasm"));
  }
  let from;
  if (name === "src" || VARIANTS[name]?.from === "src") from = "/bridge-js/src";
  else if (VARIANTS[name]?.fromDir) from = VARIANTS[name].fromDir;
  else if (name === "dist") from = "/bridge-js/dist";
  else if (VARIANTS[name].distMjs) {
    const { buildDist } = await import("../../xtask/dist.mjs");
    const src = VARIANTS[name].src === undefined ? undefined : join(REPO_ROOT, VARIANTS[name].src);
    await buildDist(dir, { ...(VARIANTS[name].minify === false ? { minify: false } : {}), ...VARIANTS[name].esbuild }, src);
    for (const f of VARIANTS[name].unhint ?? []) writeFileSync(join(dir, f), readFileSync(join(dir, f), "utf8").replace(/^\/\/# allFunctionsCalledOnLoad\n/, ""));
    if (VARIANTS[name].pife) writeFileSync(join(dir, "worker.js"), pifeHot(readFileSync(join(dir, "worker.js"), "utf8"), VARIANTS[name].pife));
    const cold = VARIANTS[name].cold && coldEmulation(readFileSync(join(dir, "worker.js"), "utf8"), VARIANTS[name].cold.file);
    if (VARIANTS[name].perFunction) writeFileSync(join(dir, "worker.js"), perFunctionHint(readFileSync(join(dir, "worker.js"), "utf8"), VARIANTS[name].perFunction));
    if (VARIANTS[name].hot) {
      // the page keeps the whole file (its coverage was taken after it loaded,
      // so it may run "cold" functions at its import): main.js imports a copy
      const whole = readFileSync(join(dir, "worker.js"), "utf8");
      writeFileSync(join(dir, "worker-page.js"), whole);
      const main = readFileSync(join(dir, "main.js"), "utf8");
      if (!main.includes('from"./worker.js"')) throw new Error(`${name}: main.js does not import ./worker.js as expected`);
      writeFileSync(join(dir, "main.js"), main.replace('from"./worker.js"', 'from"./worker-page.js"'));
      writeFileSync(join(dir, "worker.js"), hotOnly(whole, VARIANTS[name].hot));
    }
    if (cold !== undefined) {
      // at the end: the per-function hint's positions count from the file's start
      writeFileSync(join(dir, "cold.js"), cold);
      const tail = VARIANTS[name].cold.how === "static" ? `import"./cold.js";\n` : `await import("./cold.js");\n`;
      writeFileSync(join(dir, "worker.js"), readFileSync(join(dir, "worker.js"), "utf8") + tail);
    }
    for (const f of VARIANTS[name].hint ?? []) writeFileSync(join(dir, f), `//# allFunctionsCalledOnLoad\n${readFileSync(join(dir, f), "utf8")}`);
    from = `/benches/browser/.build/variants/${name.replace(/[^\w.-]+/g, "_")}`;
  } else if (VARIANTS[name].rollup) {
    await buildRollup(dir, VARIANTS[name].minify);
    from = `/benches/browser/.build/variants/${name}`;
  } else {
    await build({
      ...base, ...VARIANTS[name],
      entryPoints: ["main.js", "worker.js"].map((e) => join(REPO_ROOT, "bridge-js", "src", e)),
      outdir: dir, chunkNames: "chunk-[hash]",
    });
    from = `/benches/browser/.build/variants/${name}`;
  }
  const sideFrom = from;
  for (const side of ["main", "worker"]) {
    const from = VARIANTS[name]?.[`${side}From`] ?? sideFrom;
    const micros = side === "worker" ? VARIANTS[name]?.workerSpinMicros : undefined;
    const patch = side === "worker" ? VARIANTS[name]?.workerPatch : undefined;
    // Mailbox statics on both sides (`statics`), or on one (`mainStatics`, `workerStatics`)
    const statics = VARIANTS[name]?.statics ?? VARIANTS[name]?.[`${side}Statics`];
    // Mailbox from mailbox.js. A dist build exports it under a one-letter
    // name and renames its statics (xtask/mangle.mjs): such a variant would
    // measure the unpatched build, so it is refused.
    const mailbox = "mailbox.js";
    if (VARIANTS[name]?.distMjs && (micros ?? patch ?? statics) !== undefined) {
      throw new Error(`variant ${name}: a dist build cannot be patched (Mailbox is not exported by name); patch a sources variant instead`);
    }
    let pre = micros === undefined && patch === undefined && statics === undefined ? "" : `import { Mailbox } from "${from}/${mailbox}";\n`;
    if (micros !== undefined) pre += `Mailbox.spinMicros = ${micros};\n`;
    if (statics !== undefined) pre += `Object.assign(Mailbox, ${JSON.stringify(statics)});\n`;
    if (patch !== undefined) pre += `import { install } from "${patch}";\ninstall(Mailbox);\n`;
    let js = pre + readFileSync(join(libs, `ours.${side}.js`), "utf8")
      .replaceAll("/bridge-js/src/", `${from}/`)
      .replaceAll("../common.worker.js", "/benches/browser/common.worker.js")
      .replaceAll("./ours-api.js", "/benches/browser/libs/ours-api.js")
      .replace("startOurs(BridgeWorker, url, api, options)", `startOurs(BridgeWorker, url, api, { ...${JSON.stringify(VARIANTS[name]?.options ?? {})}, ...options })`);
    const post = side === "main" ? VARIANTS[name]?.mainPost ?? "" : "";
    if (side === "worker" && VARIANTS[name]?.inlineApi) {
      const api = readFileSync(join(libs, "ours-api.js"), "utf8").replace(/^export /gm, "");
      js = js.replace(/^import \{ setupOurs \} from .*$/m, () => api);
    }
    const mark = side === "worker" ? `import "${EVAL_MARK}";\n` : "";
    writeFileSync(join(dir, `ours.${side}.js`), mark + (VARIANTS[name]?.count ? pre + counted(side, from, VARIANTS[name].options) : js + post));
  }
  return `../.build/variants/${name.replace(/[^\w.-]+/g, "_")}/ours`; // page.js loads ./libs/<lib>.main.js
}

// What coverage-worker.mjs --positions wrote to `json`, checked to be of `text`.
function coverageOf(text, json) {
  const cov = JSON.parse(readFileSync(join(REPO_ROOT, json), "utf8"));
  if (createHash("sha1").update(text).digest("hex") !== cov.sha1) throw new Error(`${json} was taken over another worker.js; run coverage-worker.mjs --positions again`);
  return cov;
}

// dist-pife: the file-wide hint line removed, and each function declaration
// that ran at start (coverage-worker.mjs's ranges) turned into a
// parenthesized function expression bound with `let` (block-scoped as a
// declaration in a module; a call before it throws instead of running).
function pifeHot(text, json) {
  const { ranges } = coverageOf(text, json);
  const ins = [];
  for (const [a, b] of ranges) {
    const m = /^function ([\w$]+)\(/.exec(text.slice(a, a + 60));
    if (!m || text[b - 1] !== "}") continue;
    ins.push([a, `let ${m[1]}=(`], [b, ");"]);
  }
  // from the end, so earlier offsets stay valid; where one function ends
  // and the next begins, the end's ");" goes before the next's "let"
  let out = text;
  for (const [p, s] of ins.sort((x, y) => y[0] - x[0] || (x[1] === ");") - (y[1] === ");"))) out = out.slice(0, p) + s + out.slice(p);
  const n = ins.length / 2;
  console.log(`dist-pife: ${n} function declarations made PIFEs`);
  return out.replace(/^\/\/# allFunctionsCalledOnLoad\n/, "");
}

// dist-*cold: the second file's text (see VARIANTS): each outermost function
// that did not run at start, as an object literal's member (a method as it
// is, anything else under a key), in a function nothing calls; or an empty
// module without `json`.
function coldEmulation(text, json) {
  if (!json) return "export{};\n";
  const { cold } = coverageOf(text, json);
  if (!cold) throw new Error(`${json} has no cold ranges; run coverage-worker.mjs --positions again`);
  const members = cold.map(([a, b], i) => {
    // (a constructor's super() call is a class's only: any call of the same length will do)
    const t = text.slice(a, b).replace(/^static\s+/, "").replace(/\bsuper\(/g, "Super(");
    return /^(async\s+)?function\b|^(async\s*)?(\([^)]*\)|[\w$]+)\s*=>/.test(t) ? `k${i}:${t}` : t;
  });
  const out = `export function cold(){return{${members.join(",")}}}\n`;
  console.log(`cold.js: ${cold.length} functions, ${out.length} B`);
  return out;
}

// dist-hot*: each outermost function that did not run at start replaced by
// an empty one of the same shape (see VARIANTS).
function hotOnly(text, json) {
  const { cold } = coverageOf(text, json);
  let out = text, kept = 0;
  for (const [a, b] of [...cold].sort((x, y) => y[0] - x[0])) {
    const t = text.slice(a, b);
    let m, stub = null;
    if ((m = /^(async\s+)?function\s*\*?\s*[\w$]*\s*\(/.exec(t))) stub = `${m[0]}){}`;
    else if ((m = /^(async\s*)?(\([^()]*\)|[\w$]+)\s*=>/.exec(t))) stub = `${m[1] ?? ""}()=>{}`;
    else if ((m = /^(static\s+)?(get\s+|set\s+)?(async\s+)?\*?([\w$#]+|\[[^\]]*\])\s*\(/.exec(t))) {
      const setter = m[2]?.startsWith("set") || /\bset\s+$/.test(text.slice(Math.max(0, a - 8), a));
      stub = `${m[0]}${setter ? "v" : ""}){}`;
    }
    if (stub === null) { kept++; continue; }
    out = out.slice(0, a) + stub + out.slice(b);
  }
  console.log(`hot worker.js: ${cold.length - kept} cold functions stubbed (${kept} of other shapes kept), ${text.length} -> ${out.length} B`);
  return out;
}

// dist-perfn: the file-wide hint line replaced by a per-function one naming
// the positions coverage-worker.mjs wrote (relative to the comment's end,
// each a delta from the one before, in source-map VLQ base64).
function perFunctionHint(text, json) {
  const { positions } = coverageOf(text, json);
  const HINT = "//# allFunctionsCalledOnLoad\n";
  if (!text.startsWith(HINT)) throw new Error("dist-perfn: worker.js has no file-wide hint to replace");
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const vlq = (n) => {
    let v = n < 0 ? (-n << 1) | 1 : n << 1, out = "";
    do {
      let d = v & 31;
      v >>>= 5;
      if (v) d |= 32;
      out += B64[d];
    } while (v);
    return out;
  };
  // V8 counts from the comment's end (its line break): a position p of the
  // old text is p - HINT.length + 1 after it
  let last = 0, enc = "";
  for (const p of positions) {
    const rel = p - HINT.length + 1;
    enc += vlq(rel - last);
    last = rel;
  }
  return `//# functionsCalledOnLoad=${enc}\n${text.slice(HINT.length)}`;
}

// The `ours` adapters with micro/count-patch.js: page.js reads the counts of
// both sides around the timed loop (its `profiled`).
function counted(side, from, options = {}) {
  const patch = `import { stats, reset } from "/benches/browser/micro/count-patch.js";\n`;
  if (side === "main") {
    return `${patch}import { BridgeWorker } from "${from}/main.js";\nimport { startOurs } from "/benches/browser/libs/ours-api.js";\n` +
      `export const start = (url, api, options) => ({ ...startOurs(BridgeWorker, url, api, { ...${JSON.stringify(options)}, ...options }), stats: () => stats("main"), resetStats: reset });\n`;
  }
  return `${patch}import { bridge } from "${from}/worker.js";\nimport { boot, domWithWindow } from "/benches/browser/common.worker.js";\n` +
    `import { setupOurs } from "/benches/browser/libs/ours-api.js";\n` +
    `boot(async () => ({ ...(await setupOurs(bridge, domWithWindow)), stats: () => stats("worker"), resetStats: reset }));\n`;
}

async function buildRollup(dir, minify, input = ["main.js", "worker.js"].map((e) => join(REPO_ROOT, "bridge-js", "src", e))) {
  const { rollup } = await import("rollup");
  const { transform } = await import("esbuild");
  const bundle = await rollup({
    input,
    onwarn: () => {},
  });
  const plugins = minify
    ? [{ name: "esbuild-minify", renderChunk: async (code) => ({ code: (await transform(code, { minify: true, format: "esm", target: "es2022" })).code, map: null }) }]
    : [];
  await bundle.write({ dir, format: "es", chunkFileNames: "chunk-[hash].js", plugins });
  await bundle.close();
}

const phasesOf = []; // [lib, case, { modules, handshake, firstCall }] per start-up sample
const startsOf = []; // [lib, case, [ms of each start]] per start-up sample
const profiles = []; // [lib, case, ops, { key: { calls } }] per measurement of a `count` variant

async function measure(ctx, url, lib, c, counts) {
  const page = await ctx.newPage();
  try {
    await page.goto(`${url}/benches/browser/index.html?lib=${encodeURIComponent(lib)}`);
    const ready = await page.waitForFunction(() => window.benchReady, null, { timeout: 30_000 }).then((h) => h.jsonValue());
    if (!ready.ok) throw new Error(ready.error);
    const r = await page.evaluate(([n, cnt]) => window.bench(n, cnt), [CASES[c].page ?? c, counts]);
    if (!r.ok) throw new Error(r.error);
    if (r.phases) phasesOf.push([lib, c, r.phases]);
    if (r.all) startsOf.push([lib, c, r.all]);
    if (r.profile) profiles.push([lib, c, r.ops, r.profile]);
    return r.value * (CASES[c].scale ?? 1000); // page.js gives ms
  } finally {
    await page.close();
  }
}

const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const MICRO = join(REPO_ROOT, "benches", "browser", "micro", "codec-entry.js");
async function prepareMicro(name) {
  if (name === "src" || name === "dist" || VARIANTS[name].from) return "/benches/browser/micro/codec-entry.js";
  const dir = join(OUT, name, "micro");
  mkdirSync(dir, { recursive: true });
  if (VARIANTS[name].rollup) await buildRollup(dir, VARIANTS[name].minify, [MICRO]);
  else await build({ ...base, ...VARIANTS[name], entryPoints: [MICRO], outdir: dir });
  return `/benches/browser/.build/variants/${name}/micro/codec-entry.js`;
}

async function micro() {
  const urls = {};
  for (const n of names) urls[n] = await prepareMicro(n);
  const busy = busyArg(argv);
  const stopBusy = busy ? startBusy(busy) : () => {};
  const server = await startServer({ isolated: true });
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  const ctx = await browser.newContext();
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  try {
    for (let rep = 0; rep < REPS; rep++) {
      for (const n of rep % 2 ? [...names].reverse() : names) {
        const page = await ctx.newPage();
        await page.goto(`${server.url}/benches/browser/micro/index.html`);
        await page.waitForFunction(() => window.ready);
        const xs = await page.evaluate(([u]) => window.micro(u, 20000, 8), [urls[n]]);
        samples[n].push(Math.min(...xs.slice(2))); // the first trials warm up
        await page.close();
      }
    }
  } finally {
    await browser.close();
    await server.close();
    stopBusy();
  }
  const m0 = med(samples[names[0]]);
  console.log(`micro (codec + mailbox, one thread), ns per round trip of work, ${REPS} pages each; ratio vs ${names[0]}`);
  for (const n of names) {
    const s = samples[n];
    console.log(`${n.padEnd(22)} median ${med(s).toFixed(0).padStart(6)}  min ${Math.min(...s).toFixed(0).padStart(6)}  max ${Math.max(...s).toFixed(0).padStart(6)}  ${(med(s) / m0).toFixed(2)}x`);
  }
}

async function main() {
  if (argv.includes("--micro")) return micro();
  const libOf = {};
  for (const n of names) libOf[n] = await prepare(n);
  const busy = busyArg(argv);
  // --alternate: each repetition times every variant idle, then again with
  // the `--busy N` processes running, so both conditions see the same drift.
  const alternate = argv.includes("--alternate") && busy > 0;
  const modes = alternate ? ["idle", `busy ${busy}`] : [busy ? `busy ${busy}` : "idle"];
  const stopAll = !alternate && busy ? startBusy(busy) : () => {};
  // --cache: the server lets the browser cache files for 10 minutes (as a
  // deployed package usually is) instead of `no-store`; the worker's own
  // script URL differs per start (page.js), what it imports does not
  const cache = argv.includes("--cache");
  const server = await startServer({ isolated: true, headers: cache ? () => ({ "cache-control": "max-age=600" }) : null });
  // --args "...": extra Chromium switches (dist-perfn: --enable-features=JavaScriptCompileHintsPerFunctionMagicRuntime)
  const extraArgs = opt("--args", "").split(/\s+/).filter(Boolean);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", ...extraArgs],
  });
  const ctx = await browser.newContext();
  const load = () => loadavg().map((x) => x.toFixed(1)).join(" ");
  console.log(`bundle variants, ${REPS} reps, ${modes.join(" / ")}${cache ? ", cacheable" : ""}, Chromium ${browser.version()}, load ${load()}${extraArgs.length ? `, ${extraArgs.join(" ")}` : ""}`);
  try {
    for (const c of ONLY) {
      const samples = Object.fromEntries(modes.map((m) => [m, Object.fromEntries(names.map((n) => [n, []]))]));
      for (let rep = 0; rep < REPS; rep++) {
        for (const m of modes) {
          const stop = alternate && m !== "idle" ? startBusy(busy) : () => {};
          try {
            for (const n of rep % 2 ? [...names].reverse() : names) {
              samples[m][n].push(await measure(ctx, server.url, libOf[n], c, CASES[c]));
            }
          } finally {
            stop();
          }
        }
      }
      for (const m of modes) {
        const m0 = med(samples[m][names[0]]);
        console.log(`\n## ${c}, ${m} (${CASES[c].unit}; ratio vs ${names[0]}; load ${load()})`);
        for (const n of names) {
          const s = samples[m][n];
          if (s.length === 0) {
            console.log(`${n.padEnd(22)} no samples`);
            continue;
          }
          console.log(`${n.padEnd(22)} median ${med(s).toFixed(2).padStart(7)}  min ${Math.min(...s).toFixed(2).padStart(7)}  max ${Math.max(...s).toFixed(2).padStart(7)}  ${(med(s) / m0).toFixed(2)}x`);
        }
        if (m === modes[modes.length - 1]) {
          for (const n of names) {
            const ps = profiles.filter(([l, cc]) => l === libOf[n] && cc === c);
            if (!ps.length) continue;
            const keys = [...new Set(ps.flatMap((p) => Object.keys(p[3])))];
            const per = keys.map((k) => `${k} ${med(ps.map(([, , ops, p]) => (p[k]?.calls ?? 0) / ops)).toFixed(3)}`);
            console.log(`  ${n}, per call (median over pages, both modes): ${per.join(", ")}`);
          }
        }
        if (CASES[c].unit.startsWith("ms,") && m === modes[modes.length - 1]) {
          for (const n of names) {
            // (this case's samples only: startup and startFirst both record them)
            const ps = phasesOf.filter(([l, cc]) => l === libOf[n] && cc === c).map(([, , p]) => p);
            const parts = ps.length ? Object.keys(ps[0]).map((k) => `${k} ${med(ps.map((p) => p[k])).toFixed(2)}`) : [];
            const starts = startsOf.filter(([l, cc]) => l === libOf[n] && cc === c).map(([, , xs]) => xs);
            const all = starts.flat().sort((a, b) => a - b);
            if (all.length === 0) continue; // --reps 0
            const q = (f) => all[Math.floor(f * (all.length - 1))].toFixed(1);
            // a page's first start: the one a user waits for (the page's
            // first BridgeWorker compiles and runs the page's side of the
            // library for the first time); page.js's median hides it
            const firsts = starts.map((xs) => xs[0]);
            console.log(`  ${n}: ${parts.join(", ")} (medians over both modes); all ${all.length} starts: p25 ${q(0.25)}, median ${q(0.5)}, p75 ${q(0.75)}; first of each page: median ${med(firsts).toFixed(1)}`);
          }
        }
      }
    }
  } finally {
    await browser.close();
    await server.close();
    stopAll();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
