// Python-level operations, PyScript on worker-bridge against stock PyScript,
// MicroPython and Pyodide, in one headless Chromium run.
//
//   node benches/pyscript/run.mjs [--reps N] [--n N] [--dom N] [--types mpy,py] [--busy N] [--warm] [--smoke]
//
// Needs `cargo xtask build` (demo/.build/pyscript/{wb,stock}, xtask/pyscript.mjs).
// Each measurement opens a fresh page (tests/e2e/pyscript/page.html with
// main=/benches/pyscript/bench.js) whose MPWorker / PyWorker runs
// benches/pyscript/bench.py; builds are interleaved within each repetition
// (wb stock, then stock wb), so drift on a shared machine hits both alike.
// Rows: start (page's MPWorker() call to the first Python line, ms; split
// into: to the worker's global, from there to the interpreter's fetch (the
// bridge's and the worker script's start-up), and the interpreter's fetch,
// compile and boot to the first line), and per
// operation in us: `window.Math.max(i, 1)`, a `document.title` read, a `sync`
// call into the page, one element of a DOM loop (createElement, set
// textContent, append). Prints min / median / max per build and the ratio
// of the medians (worker-bridge / stock: below 1 is faster). A third build,
// "ours", is worker-bridge/python's own MPWorker / PyWorker (no PyScript,
// benches/pyscript/ours.html) on the same bench.py.
// Each case is timed right after a warm-up of 1/16 of its count, on a worker
// started moments before, in the order fn, title, sync, dom: the first
// thousands of operations of a fresh interpreter, whose wasm and the JS on
// the path are still being compiled (docs/benchmarks.md, stop 20). --warm
// runs every case once in full first (untimed): the steady state.
import { launchBrowser } from "../../tests/e2e/harness.mjs";
import { startServer } from "../../tests/server.mjs";
import { startBusy, busyArg } from "../busy.mjs";
import { cpus, loadavg } from "node:os";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const SMOKE = argv.includes("--smoke");
const REPS = Number(opt("--reps", SMOKE ? 1 : 5));
const N = Number(opt("--n", SMOKE ? 50 : 2000));
const DOM = Number(opt("--dom", SMOKE ? 20 : 1000));
const TYPES = opt("--types", SMOKE ? "mpy" : "mpy,py").split(",");
const BUSY = busyArg(argv);
const WARM = argv.includes("--warm");
// --builds: which builds, in this order on even repetitions (reversed on odd
// ones); another directory of demo/.build/pyscript/ may be named too (a
// before/after comparison), its ratio is to stock; so may `ours@<dir>`:
// worker-bridge/python from <dir>/bridge-js/src, a path from the repository
// root (e.g. bridge-js/src of an older commit, unpacked with a node_modules
// link beside it so that the interpreters' default URLs resolve).
const ORDER = opt("--builds", "wb,stock,ours").split(",");
const BUILDS = { wb: "PyScript on worker-bridge", stock: "stock PyScript (coincident)", ours: "worker-bridge/python" };
const ROWS = [
  ["start", "start to first Python line (ms)"],
  ["startWorker", "  of which: to the worker's global"],
  ["startBoot", "  worker to interpreter fetch"],
  ["startInterp", "  interpreter fetch to first line"],
  ["fn", "window.Math.max() call (us)"],
  ["title", "document.title read (us)"],
  ["sync", "sync call into the page (us)"],
  ["dom", "DOM loop, per element (us)"],
];

const stopBusy = BUSY > 0 ? startBusy(BUSY) : () => {};
const server = await startServer({ isolated: true });
const browser = await launchBrowser();

async function once(build, type) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const q = new URLSearchParams({ build, type, main: "/benches/pyscript/bench.js", n: String(N), dom: String(DOM) });
  if (WARM) q.set("warm", "1");
  const ours = build === "ours" || build.startsWith("ours@");
  if (build.startsWith("ours@")) q.set("src", `/${build.slice(5)}/bridge-js/src/python.js`);
  try {
    await page.goto(ours ? `${server.url}/benches/pyscript/ours.html?${q}` : `${server.url}/tests/e2e/pyscript/page.html?${q}`);
    await page.waitForFunction(() => window.__py && window.__py.done, null, { timeout: type === "py" ? 300_000 : 120_000, polling: 100 });
    const r = await page.evaluate(() => ({ bench: window.__py.bench, error: window.__py.mainError }));
    if (r.error || !r.bench) throw new Error(r.error || "no result");
    return r.bench;
  } catch (e) {
    throw new Error(`${build} ${type}: ${e.message}${errors.length ? `\n  page errors: ${errors.join("\n  ")}` : ""}`);
  } finally {
    await context.close();
  }
}

const results = {}; // type -> build -> row -> [values]
let failed = false;
try {
  for (let rep = 0; rep < REPS; rep++) {
    for (const type of TYPES) {
      const order = rep % 2 === 0 ? ORDER : [...ORDER].reverse();
      for (const build of order) {
        const r = await once(build, type);
        for (const [row] of ROWS) if (typeof r[row] === "number") (((results[type] ??= {})[build] ??= {})[row] ??= []).push(r[row]);
        process.stderr.write(".");
      }
    }
  }
} catch (e) {
  failed = true;
  console.error(`\n${e.message}`);
} finally {
  process.stderr.write("\n");
  await browser.close();
  await server.close();
  stopBusy();
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const f = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const span = (a) => `${f(Math.min(...a))} / ${f(median(a))} / ${f(Math.max(...a))}`;

console.log(`PyScript on worker-bridge vs stock PyScript: ${REPS} reps, ${N} calls, ${DOM} DOM elements per run` +
  `${BUSY ? `, ${BUSY} busy processes` : ""}${WARM ? ", every case run once first (--warm)" : ""}; ${cpus().length} cores, load ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
for (const type of TYPES) {
  const r = results[type];
  if (!r?.wb || !r?.stock) continue;
  console.log(`\n${type === "mpy" ? "MicroPython" : "Pyodide"} (min / median / max)`);
  console.log(`| ${"".padEnd(34)} | ${BUILDS.wb.padEnd(26)} | ${BUILDS.stock.padEnd(27)} | ratio | ${BUILDS.ours.padEnd(26)} | ratio |`);
  console.log(`|${"-".repeat(36)}|${"-".repeat(28)}|${"-".repeat(29)}|-------|${"-".repeat(28)}|-------|`);
  for (const [row, label] of ROWS) {
    const a = r.wb[row];
    const b = r.stock[row];
    if (!a || !b) continue;
    const c = r.ours?.[row];
    const ours = c ? `| ${span(c).padEnd(26)} | ${(median(c) / median(b)).toFixed(2).padStart(5)} |` : "| - | - |";
    console.log(`| ${label.padEnd(34)} | ${span(a).padEnd(26)} | ${span(b).padEnd(27)} | ${(median(a) / median(b)).toFixed(2).padStart(5)} ${ours}`);
  }
  for (const other of ORDER.filter((x) => !(x in BUILDS) && r[x])) {
    console.log(`\nbuild ${other}: | row | min / median / max | ratio to stock |`);
    for (const [row, label] of ROWS) {
      const a = r[other][row];
      const b = r.stock[row];
      if (a && b) console.log(`| ${label.padEnd(34)} | ${span(a).padEnd(26)} | ${(median(a) / median(b)).toFixed(2).padStart(5)} |`);
    }
  }
}
process.exit(failed ? 1 : 0);
