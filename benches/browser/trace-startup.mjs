// One start of the startup case under a Chromium trace: what the page's main
// thread and the worker's thread ran, in time order, from the page's first
// message from the library (0 ms) on (docs/benchmarks.md, "Start-up (stop 16)").
//
//   node benches/browser/trace-startup.mjs [--lib ours-dist] [--from -3] [--to 10] [--min 0.02]
//   node benches/browser/trace-startup.mjs --n 12 [--libs ours-dist,coincident,...] [--args "--flag ..."]
//
// With --n: no timeline; N starts of each lib, interleaved, each in a page of
// its own under a trace, and the worker thread's compile work per start
// (medians, ms of the thread's CPU time): `compileModule` all of its modules' v8.compileModule
// (parse, and with a compile hint the eager compile), `parse` their
// V8.ParseProgram, `lazy` the V8.CompileCode outside them (functions
// compiled on their first call: the handshake's and first call's),
// `pageLazy` the page's main thread's V8.CompileCode during the start (the
// page loaded its modules before the trace began), with the start's phases. Far less noisy than start-up totals on a shared
// machine: it counts the worker's own work, not its waits.
// --args: extra Chromium switches (e.g. --enable-features=...).
// --busy N (with --n): N CPU-bound processes beside the starts (benches/busy.mjs);
// `compileWall` is the compile's wall time beside its CPU time.
//
//   node benches/browser/trace-startup.mjs --count 20 [--libs ours-dist,...] [--calls 6] [--busy 3]
//
// With --count: N traced starts of each lib, interleaved, each followed by
// --calls calls from the worker that each find the page idle (the start's
// two, then 5 ms apart: page.js's `spaced` case). Per start, the page's
// tasks that resolved an Atomics.waitAsync (V8's futex-emulation.cc), in
// order, with the call each served; and how many starts had one of 2 ms or
// more (wall) in their first calls: the page's slow cross-thread wake-up
// (docs/benchmarks.md, "Wake-ups (stop 18)").
//
// --lib: a benches/browser/libs adapter (or ../.build/... for a variant of
// bundle-variants.mjs); --from / --to: the window, ms; --min: leave out
// complete events shorter than this (ms). `performance.mark()` calls in the
// library (a patched copy) show up as blink.user_timing events. For the
// `ours` adapters (0 ms is found by the library's main.js). Task types and
// the source of long tasks are printed where Chromium records them.
import { chromium } from "playwright-core";
import { startServer } from "../../tests/server.mjs";
import { busyArg, startBusy } from "../busy.mjs";

const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const lib = opt("--lib", "ours-dist");
const [from, to, min] = [Number(opt("--from", -3)), Number(opt("--to", 10)), Number(opt("--min", 0.02))];

const CATEGORIES = ["devtools.timeline", "v8", "v8.execute", "v8.wasm", "blink.user_timing", "toplevel", "scheduler.long_tasks",
  "disabled-by-default-v8.compile", "disabled-by-default-devtools.timeline", "disabled-by-default-v8.wasm.detailed"];
const extraArgs = opt("--args", "").split(/\s+/).filter(Boolean);
// --cache: files cacheable (every mode reads it, so before the modes below).
const CACHE = argv.includes("--cache") ? () => ({ "cache-control": "max-age=600" }) : null;
// --cats a,b: more trace categories (e.g. scheduler,sequence_manager,toplevel.flow)
CATEGORIES.push(...opt("--cats", "").split(",").filter(Boolean));
if (argv.includes("--count")) {
  await futexCount(Number(opt("--count", 20)), opt("--libs", lib).split(","), Number(opt("--calls", 6)), busyArg(argv));
  process.exit(0);
}
if (argv.includes("--n")) {
  await compileSummary(Number(opt("--n", 12)), opt("--libs", lib).split(","));
  process.exit(0);
}
// --cache: files cacheable for 10 minutes (bundle-variants.mjs --cache), as
// where a package is deployed with caching; --warm K: K untraced starts in
// the page first (with --cache, what a start that finds the files cached does)
const server = await startServer({ isolated: true, headers: CACHE });
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu", ...extraArgs] });
let trace, r;
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/benches/browser/index.html?lib=${encodeURIComponent(lib)}`);
  await page.waitForFunction(() => window.benchReady);
  const warm = Number(opt("--warm", 0));
  if (warm > 0) await page.evaluate((n) => window.bench("startup", { n }), warm);
  await browser.startTracing(page, { categories: CATEGORIES });
  r = await page.evaluate(() => window.bench("startup", { n: 1 }));
  trace = JSON.parse((await browser.stopTracing()).toString()).traceEvents;
} finally {
  await browser.close();
  await server.close();
}
if (!r.ok) throw new Error(r.error);
console.log(`${lib}: ${r.value.toFixed(2)} ms; phases ${Object.entries(r.phases).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")}`);
const threads = new Map();
for (const e of trace) if (e.ph === "M" && e.name === "thread_name") threads.set(`${e.pid}:${e.tid}`, e.args.name);
const thread = (e) => threads.get(`${e.pid}:${e.tid}`) ?? "";
const ours = trace.filter((e) => /CrRendererMain|DedicatedWorker/.test(thread(e)));
// 0 ms: the page's first call into the library's files from a task (a message from the worker)
const url = (e) => e.args?.data?.url ?? "";
const first = ours.filter((e) => e.name === "FunctionCall" && /\/(dist|src|variants|\.build)\/.*main\.js/.test(url(e)) && /CrRendererMain/.test(thread(e)))
  .sort((a, b) => a.ts - b.ts)[0];
if (!first) throw new Error("no FunctionCall of the library on the page's main thread in the trace");
const t0 = first.ts;
for (const e of ours.sort((a, b) => a.ts - b.ts)) {
  const t = (e.ts - t0) / 1000;
  if (t < from || t > to) continue;
  if (e.ph === "X" ? (e.dur ?? 0) / 1000 < min : e.cat !== "blink.user_timing" && e.name !== "LongTaskTracker") continue;
  const d = e.args?.data ?? {};
  const task = e.args?.renderer_main_thread_task_execution?.task_type ?? e.args?.src_file;
  const info = [d.url && d.url.replace(/^https?:\/\/[^/]+/, ""), d.functionName, d.func_index ?? d.funcIndex, task].filter((x) => x !== undefined && x !== "").join(" ");
  const who = /CrRendererMain/.test(thread(e)) ? "page  " : "worker";
  // cpu: the thread's own time in the event (Chromium's `tdur`); far below
  // the wall time, the thread was off its core (blocked or preempted)
  const cpu = e.ph === "X" && e.tdur !== undefined ? ` cpu ${(e.tdur / 1000).toFixed(3)}` : "";
  console.log(`${t.toFixed(3).padStart(8)} ${e.ph === "X" ? `+${((e.dur ?? 0) / 1000).toFixed(3).padStart(6)}` : "   mark".padEnd(7)} ${who} ${e.name} ${info}${cpu}`);
}

// n traced starts of each lib, interleaved (A B C, then reversed), each in a
// page of its own: `run(page)` starts it (a window.bench result), `got(lib,
// result, traceEvents, i)` takes what it gave.
async function tracedStarts(n, libs, run, got) {
  const server = await startServer({ isolated: true, headers: CACHE });
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu", ...extraArgs] });
  try {
    for (let i = 0; i < n; i++) {
      for (const l of i % 2 ? [...libs].reverse() : libs) {
        const page = await browser.newPage();
        try {
          await page.goto(`${server.url}/benches/browser/index.html?lib=${encodeURIComponent(l)}`);
          await page.waitForFunction(() => window.benchReady);
          await browser.startTracing(page, { categories: CATEGORIES });
          const res = await run(page);
          const tr = JSON.parse((await browser.stopTracing()).toString()).traceEvents;
          if (!res.ok) throw new Error(res.error);
          got(l, res, tr, i);
        } finally {
          await page.close();
        }
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

// --n: the worker thread's compile work over n starts of each lib (see the top).
async function compileSummary(n, libs) {
  const { loadavg } = await import("node:os");
  const rows = Object.fromEntries(libs.map((l) => [l, []]));
  const load0 = loadavg()[0];
  const busy = busyArg(argv);
  const stopBusy = busy ? startBusy(busy) : () => {};
  try {
    await tracedStarts(n, libs, (page) => page.evaluate(() => window.bench("startup", { n: 1 })),
      (l, res, tr) => rows[l].push({ total: res.value, ...workerCompile(tr), ...res.phases }));
  } finally {
    stopBusy();
  }
  const med = (xs) => { const t = [...xs].sort((a, b) => a - b); return t.length % 2 ? t[t.length >> 1] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2; };
  console.log(`worker compile per start, median of ${n} starts each (ms)${busy ? `, busy ${busy}` : ""}, load ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)}${extraArgs.length ? `, Chromium ${extraArgs.join(" ")}` : ""}`);
  const keys = ["compileModule", "compileWall", "parse", "evaluate", "lazy", "lazyN", "pageLazy", "pageLazyN", "handshake", "firstCall", "modules", "total"];
  console.log(`${"lib".padEnd(40)} ${keys.map((k) => k.padStart(13)).join(" ")}`);
  for (const l of libs) console.log(`${l.padEnd(40)} ${keys.map((k) => med(rows[l].map((x) => x[k] ?? NaN)).toFixed(2).padStart(13)).join(" ")}`);
}

function workerCompile(tr) {
  const threads = new Map();
  for (const e of tr) if (e.ph === "M" && e.name === "thread_name") threads.set(`${e.pid}:${e.tid}`, e.args.name);
  const w = tr.filter((e) => e.ph === "X" && /DedicatedWorker/.test(threads.get(`${e.pid}:${e.tid}`) ?? ""));
  const mods = w.filter((e) => e.name === "v8.compileModule");
  const inMod = (e) => mods.some((m) => m.tid === e.tid && m.ts <= e.ts && e.ts < m.ts + m.dur);
  // the thread's CPU time (tdur) where Chromium records it: a descheduled
  // worker's wait is not compile work
  const sum = (es) => es.reduce((a, e) => a + (e.tdur ?? e.dur ?? 0) / 1000, 0);
  const lazy = w.filter((e) => e.name === "V8.CompileCode" && !inMod(e));
  // the page's lazy compiles during the start (its modules loaded before the trace began)
  const p = tr.filter((e) => e.ph === "X" && e.name === "V8.CompileCode" && /CrRendererMain/.test(threads.get(`${e.pid}:${e.tid}`) ?? ""));
  const wall = (es) => es.reduce((a, e) => a + (e.dur ?? 0) / 1000, 0);
  // evaluate: every worker module's v8.evaluateModule, CPU (the library's
  // top-level code and the benchmark's common.worker.js, the same for every
  // library; its strings and its 1 MiB array are built at a case's first run)
  return { compileModule: sum(mods), compileWall: wall(mods), evaluate: sum(w.filter((e) => e.name === "v8.evaluateModule")), parse: sum(w.filter((e) => e.name === "V8.ParseProgram" && inMod(e))), lazy: sum(lazy), lazyN: lazy.length, pageLazy: sum(p), pageLazyN: p.length };
}

// --count: the page's waitAsync wake-up tasks over n starts of each lib (see the top).
async function futexCount(n, libs, calls, busy) {
  const { loadavg } = await import("node:os");
  const stopBusy = busy ? startBusy(busy) : () => {};
  const rows = Object.fromEntries(libs.map((l) => [l, []]));
  const load0 = loadavg()[0];
  try {
    await tracedStarts(n, libs, (page) => page.evaluate((k) => window.bench("spaced", { n: k }), Math.max(0, calls - 2)), (l, res, tr, i) => {
      const f = pageFutexTasks(tr);
      rows[l].push(f);
      console.log(`${l} #${i + 1}: ${f.map((t) => `call ${t.call}${t.futex ? "" : ` (${t.src})`} ${t.wall.toFixed(2)}${t.cpu === undefined ? "" : `/${t.cpu.toFixed(2)}`}`).join(", ") || "none"}`);
    });
  } finally {
    stopBusy();
  }
  console.log(`\nthe page's waitAsync wake-up tasks (ms wall/cpu) over ${n} starts each, ${calls} calls each, load ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)}${busy ? `, busy ${busy}` : ""}`);
  for (const l of libs) {
    for (const futex of [true, false]) {
      const slow = rows[l].filter((f) => f.some((t) => t.futex === futex && t.wall >= 2));
      const byCall = {};
      for (const f of rows[l]) for (const t of f) if (t.futex === futex && t.wall >= 2) byCall[t.call] = (byCall[t.call] ?? 0) + 1;
      console.log(`${l.padEnd(40)} ${futex ? "waitAsync wake-up" : "other task, mostly off-core"} of 2 ms or more: ${slow.length} of ${rows[l].length} starts (by call: ${JSON.stringify(byCall)})`);
    }
    const any = rows[l].filter((f) => f.some((t) => t.call >= 2 && t.wall >= 2)).length;
    console.log(`${"".padEnd(40)} either kind in calls 2-${calls}: ${any} of ${rows[l].length} starts`);
    const tasks = rows[l].map((f) => f.filter((t) => t.futex).length);
    console.log(`${"".padEnd(40)} waitAsync wake-ups a start: median ${[...tasks].sort((a, b) => a - b)[tasks.length >> 1]}`);
  }
}

// The page's futex-emulation tasks of one trace, in order, each with the
// call it served: the number of the last `wb-call-N` mark the worker set
// before it (1: the first call, or the handshake).
function pageFutexTasks(tr) {
  const threads = new Map();
  for (const e of tr) if (e.ph === "M" && e.name === "thread_name") threads.set(`${e.pid}:${e.tid}`, e.args.name);
  const th = (e) => threads.get(`${e.pid}:${e.tid}`) ?? "";
  const marks = tr.filter((e) => /^wb-call-\d+$/.test(e.name) && /DedicatedWorker/.test(th(e)))
    .map((e) => [e.ts, Number(e.name.slice(8))]).sort((a, b) => a[0] - b[0]);
  const t0 = marks.length ? marks[0][0] - 30_000 : 0; // from about the first call on
  // up to the end of the last call (the worker's mark after it; page.js's
  // warm-up run of no calls sets one first)
  const end = Math.max(...tr.filter((e) => e.name === "wb-call-end" && /DedicatedWorker/.test(th(e))).map((e) => e.ts));
  return tr.filter((e) => e.ph === "X" && e.name === "ThreadControllerImpl::RunTask" && /CrRendererMain/.test(th(e)) && e.ts >= t0 && e.ts < end)
    .filter((e) => /futex-emulation/.test(e.args?.src_file ?? "") || (e.dur >= 2000 && e.tdur !== undefined && e.tdur < e.dur / 2))
    .sort((a, b) => a.ts - b.ts)
    .map((e) => {
      let call = 1;
      for (const [ts, k] of marks) if (ts <= e.ts) call = k;
      // futex: a waitAsync wake-up; other: any other page task of 2 ms or more, mostly off its core
      const futex = /futex-emulation/.test(e.args?.src_file ?? "");
      return { call, futex, src: futex ? "" : (e.args?.src_file ?? "").split("/").pop(), wall: e.dur / 1000, cpu: e.tdur === undefined ? undefined : e.tdur / 1000 };
    });
}
