// Which functions of the worker's library file run, by bytes (issue 17 item
// 4; docs/benchmarks.md, "Start-up (stop 17): the worker's compile"): V8's
// precise coverage (CDP Profiler.startPreciseCoverage, call counts, function
// granularity) on every worker of the bench page, attached before its first
// instruction. Two phases:
//   start    one `startup` start: new BridgeWorker to its first sync call done
//   session  the same page then runs small calls, title reads (window and
//            document proxies) and main->worker calls, each in a worker of its own
// Prints, for the library's file (default dist/worker.js), the bytes in
// functions that ran at start (hot), ran only later in the session (warm) and
// never ran (cold), with the largest cold and warm functions.
//
//   node benches/browser/coverage-worker.mjs [--lib ours-dist] [--file /bridge-js/dist/worker.js] [--top 25]
//        [--positions out.json]
//
// --positions: writes where each function that ran at start (in the worker
// or, from the same file, on the page) begins its
// parameter list (the position V8's per-function compile hint names; see
// bundle-variants.mjs's dist-perfn), and their ranges (dist-pife), with the
// file's text's hash.
//
// A byte belongs to the innermost function around it; top-level code counts
// as run. What a Python page adds is not in this tool (see the section).
import { attachPageAndWorkers, cdp, holdTerminate, launchDebuggable } from "./cdp.mjs";
import { startServer } from "../../tests/server.mjs";

const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const LIB = opt("--lib", "ours-dist");
const FILE = opt("--file", "/bridge-js/dist/worker.js");
const TOP = Number(opt("--top", 25));

const server = await startServer({ isolated: true });
const { browser, wsUrl } = await launchDebuggable();
let ws;
const phases = {};
try {
  const page = await (await browser.newContext()).newPage();
  await holdTerminate(page);
  ws = cdp(await wsUrl());
  await ws.open;
  const send = ws.send;
  await page.goto(`${server.url}/benches/browser/index.html?lib=${LIB}`);
  const ready = await page.waitForFunction(() => window.benchReady, null, { timeout: 30_000 }).then((h) => h.jsonValue());
  if (!ready.ok) throw new Error(ready.error);
  let workers = [];
  const pageS = await attachPageAndWorkers(ws, async (s) => {
    workers.push(s);
    await send("Profiler.enable", {}, s);
    await send("Profiler.startPreciseCoverage", { callCount: true, detailed: false }, s);
  });
  const take = async () => {
    const out = [];
    for (const s of workers) out.push(...(await send("Profiler.takePreciseCoverage", {}, s)).result);
    await page.evaluate(() => window.__endHeld());
    workers = [];
    return out;
  };
  const run = async (c, cnt) => {
    const r = await page.evaluate(([n, x]) => window.bench(n, x), [c, cnt]);
    if (!r.ok) throw new Error(`${c}: ${r.error}`);
  };
  // the page's side of the start too: it runs the shared modules from the
  // same file (main.js imports them from dist/worker.js)
  await send("Profiler.enable", {}, pageS);
  await send("Profiler.startPreciseCoverage", { callCount: true, detailed: false }, pageS);
  await run("startup", { n: 1 });
  phases.page = (await send("Profiler.takePreciseCoverage", {}, pageS)).result;
  await send("Profiler.stopPreciseCoverage", {}, pageS);
  phases.start = await take();
  for (const [c, n] of [["small", 2000], ["title", 1000], ["m2w", 500]]) await run(c, { n, warm: 100 });
  phases.session = await take();
} finally {
  ws?.close();
  await browser.close();
  await server.close();
}

// 1: ran, 0: did not, per byte of the file, from the innermost function.
const text = await (await import("node:fs/promises")).readFile(new URL(`../..${FILE}`, import.meta.url), "utf8");
function ranByByte(results) {
  const ran = new Uint8Array(text.length).fill(1);
  const fns = [];
  for (const s of results) if (s.url.endsWith(FILE)) for (const f of s.functions) fns.push(f);
  if (!fns.length) throw new Error(`no coverage for ${FILE} (is --lib right?)`);
  // outer functions first, so inner ones overwrite their bytes; a function
  // reported by several workers ran if it ran in any
  const byRange = new Map();
  for (const f of fns) {
    const { startOffset: a, endOffset: b, count } = f.ranges[0];
    const k = `${a}:${b}`;
    byRange.set(k, Math.max(byRange.get(k) ?? 0, count > 0 ? 1 : 0));
  }
  const ranges = [...byRange].map(([k, v]) => [...k.split(":").map(Number), v]).sort((x, y) => x[0] - y[0] || y[1] - x[1]);
  for (const [a, b, v] of ranges) ran.fill(v, a, b);
  return { ran, ranges };
}
const start = ranByByte(phases.start);
// functions of the file the page ran during the start (for --positions)
const pageStart = ranByByte(phases.page);
const session = ranByByte([...phases.start, ...phases.session]);
let hot = 0, warm = 0, cold = 0;
for (let i = 0; i < text.length; i++) {
  if (start.ran[i]) hot++;
  else if (session.ran[i]) warm++;
  else cold++;
}
const kb = (n) => `${n} B (${((100 * n) / text.length).toFixed(1)}%)`;
console.log(`${FILE}, ${text.length} B: hot at start ${kb(hot)}, warm (later in the session) ${kb(warm)}, never ran ${kb(cold)}`);
// The largest outermost functions that never ran / ran only later.
const own = (ranges, test) => {
  const out = [];
  for (const [a, b, v] of ranges) if (!v && test(a) && !out.some(([x, y]) => x <= a && b <= y)) out.push([a, b]);
  return out.sort((x, y) => y[1] - y[0] - (x[1] - x[0])).slice(0, TOP);
};
const show = (title, list) => {
  console.log(`\n## ${title}`);
  for (const [a, b] of list) console.log(`${String(b - a).padStart(6)} B @${a}  ${text.slice(a, Math.min(b, a + 90)).replace(/\s+/g, " ")}`);
};
// By source module, when the file has a source map beside it (a variant
// built with `{ sourcemap: true }`, see bundle-variants.mjs's dist-mjs-map).
const { existsSync, readFileSync } = await import("node:fs");
const mapPath = new URL(`../..${FILE}.map`, import.meta.url);
if (existsSync(mapPath)) {
  const { TraceMap, originalPositionFor } = await import("@jridgewell/trace-mapping");
  const map = new TraceMap(readFileSync(mapPath, "utf8"));
  const per = new Map();
  let line = 1, col = 0, src = "(none)";
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\n") { line++; col = 0; continue; }
    const o = originalPositionFor(map, { line, column: col++ });
    if (o.source) src = o.source.replace(/^.*bridge-js\/src\//, "");
    const r = per.get(src) ?? per.set(src, [0, 0, 0]).get(src);
    r[start.ran[i] ? 0 : session.ran[i] ? 1 : 2]++;
  }
  console.log("\n## by source module: hot / warm / never (B)");
  for (const [m, [h, w, c]] of [...per].sort((a, b) => b[1][0] + b[1][1] + b[1][2] - a[1][0] - a[1][1] - a[1][2])) {
    console.log(`${m.padEnd(28)} ${String(h).padStart(6)} ${String(w).padStart(6)} ${String(c).padStart(6)}`);
  }
}
// By the shape of the function that ran at start: V8 can be told to compile
// a function expression eagerly by parentheses before it (its PIFE
// heuristic), never a class method or a function declaration.
const shapes = {};
for (const [a, b, v] of start.ranges) {
  if (!v || (a === 0 && b >= text.length - 1)) continue;
  const t = text.slice(a, a + 12);
  const shape = /^function[\s*(]/.test(t) && /[=(,:!]\s*$/.test(text.slice(Math.max(0, a - 2), a)) ? "function expression"
    : /^(async\s+)?function\b/.test(t) ? "function declaration"
    : /^(async\s*)?(\(|[\w$]+\s*=>)/.test(t) && /=>/.test(text.slice(a, a + 200)) && !/^[\w$]+\(/.test(t) ? "arrow"
    : /^(static\s+)?(get\s+|set\s+)?(async\s+)?\*?[\w$#]+\s*\(/.test(t) || /^(static\s+)?(get\s+|set\s+)?\[/.test(t) ? "method" : "other";
  const r = (shapes[shape] ??= { n: 0, bytes: 0 });
  r.n++;
  r.bytes += b - a; // nested ones counted in each
}
console.log("\n## functions that ran at start, by shape (bytes incl. nested)");
for (const [k, { n, bytes }] of Object.entries(shapes)) console.log(`${k.padEnd(22)} ${String(n).padStart(4)} fns ${String(bytes).padStart(7)} B`);
if (opt("--positions")) {
  const { createHash } = await import("node:crypto");
  const { writeFileSync } = await import("node:fs");
  // V8 keys a function by its parameter scope's start: the "(" of the
  // parameter list, or an arrow's lone parameter.
  // the worker's start functions and the page's: both threads compile this file
  const at = [], ranges = [];
  const both = new Map();
  for (const [a, b, v] of [...start.ranges, ...pageStart.ranges]) both.set(`${a}:${b}`, [a, b, (both.get(`${a}:${b}`)?.[2] ?? 0) | v]);
  for (const [a, b, v] of [...both.values()].sort((x, y) => x[0] - y[0])) {
    if (!v || (a === 0 && b >= text.length - 1)) continue;
    ranges.push([a, b]);
    at.push(/^(async\s*)?[\w$]+\s*=>/.test(text.slice(a, a + 40)) ? a + (/^async\s*/.exec(text.slice(a))?.[0].length ?? 0) : text.indexOf("(", a));
  }
  const sha1 = createHash("sha1").update(text).digest("hex");
  // the outermost functions that did not run at start (bundle-variants.mjs's
  // -cold variants put their text in a second file)
  const cold = [];
  for (const [a, b, v] of start.ranges) if (!v && !cold.some(([x, y]) => x <= a && b <= y)) cold.push([a, b]);
  writeFileSync(opt("--positions"), JSON.stringify({ file: FILE, sha1, positions: [...new Set(at)].sort((x, y) => x - y), ranges, cold }));
  console.log(`\n${at.length} start functions' positions (worker and page) written to ${opt("--positions")}`);
}
show("never ran (largest outermost)", own(session.ranges, () => true));
show("ran later, not at start (largest outermost)", own(start.ranges, (a) => session.ran[a]));
