// One start of the startup case under a Chromium trace: what the page's main
// thread and the worker's thread ran, in time order, from the page's first
// message from the library (0 ms) on (docs/benchmarks.md, "Start-up (stop 16)").
//
//   node benches/browser/trace-startup.mjs [--lib ours-dist] [--from -3] [--to 10] [--min 0.02]
//
// --lib: a benches/browser/libs adapter (or ../.build/... for a variant of
// bundle-variants.mjs); --from / --to: the window, ms; --min: leave out
// complete events shorter than this (ms). `performance.mark()` calls in the
// library (a patched copy) show up as blink.user_timing events. For the
// `ours` adapters (0 ms is found by the library's main.js). Task types and
// the source of long tasks are printed where Chromium records them.
import { chromium } from "playwright-core";
import { startServer } from "../../tests/server.mjs";

const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const lib = opt("--lib", "ours-dist");
const [from, to, min] = [Number(opt("--from", -3)), Number(opt("--to", 10)), Number(opt("--min", 0.02))];

const server = await startServer({ isolated: true });
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu"] });
let trace, r;
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/benches/browser/index.html?lib=${encodeURIComponent(lib)}`);
  await page.waitForFunction(() => window.benchReady);
  await browser.startTracing(page, {
    categories: ["devtools.timeline", "v8", "v8.execute", "v8.wasm", "blink.user_timing", "toplevel", "scheduler.long_tasks",
      "disabled-by-default-v8.compile", "disabled-by-default-devtools.timeline", "disabled-by-default-v8.wasm.detailed"],
  });
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
