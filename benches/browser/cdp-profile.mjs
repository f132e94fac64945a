// Where a worker->main call's JavaScript time goes, on both threads: V8's
// sampling profiler (CDP Profiler) on the page and on its worker over one
// long burst of the bench page's `small` or `title` loop. Prints the top
// functions by self time on each thread, in us per call.
//
//   node benches/browser/cdp-profile.mjs [--case small|title] [--lib ours|ours-dist]
//        [--n 200000] [--interval 50] [--top 25]
//
// The sampler adds a little to every call; read shares, not absolute times.
// The worker is attached while it starts (Target.setAutoAttach with
// waitForDebuggerOnStart), so its profile covers the whole burst.
import { attachPageAndWorkers, cdp, holdTerminate, launchDebuggable } from "./cdp.mjs";
import { loadavg } from "node:os";
import { startServer } from "../../tests/server.mjs";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const CASE = opt("--case", "small");
const LIB = opt("--lib", "ours");
const N = Number(opt("--n", CASE === "title" ? 100000 : 200000));
const INTERVAL = Number(opt("--interval", 50));
const TOP = Number(opt("--top", 25));

const server = await startServer({ isolated: true });
const { browser, wsUrl } = await launchDebuggable();
let ws;
try {
  const page = await (await browser.newContext()).newPage();
  await holdTerminate(page);
  await page.goto(`${server.url}/benches/browser/index.html?lib=${LIB}`);
  const ready = await page.waitForFunction(() => window.benchReady, null, { timeout: 30_000 }).then((h) => h.jsonValue());
  if (!ready.ok) throw new Error(ready.error);

  ws = cdp(await wsUrl());
  await ws.open;
  const send = ws.send;
  // The worker: profiled from its first instruction.
  const workers = [];
  const pageS = await attachPageAndWorkers(ws, async (s) => {
    workers.push(s);
    await send("Profiler.enable", {}, s);
    await send("Profiler.setSamplingInterval", { interval: INTERVAL }, s);
    await send("Profiler.start", {}, s);
  });
  await send("Profiler.enable", {}, pageS);
  await send("Profiler.setSamplingInterval", { interval: INTERVAL }, pageS);
  await send("Profiler.start", {}, pageS);
  const counts = { n: N, warm: Math.min(2000, N / 10) };
  const load0 = loadavg()[0];
  const r = await page.evaluate(([c, cnt]) => window.bench(c, cnt), [CASE, counts]);
  if (!r.ok) throw new Error(r.error);
  const { profile: mainP } = await send("Profiler.stop", {}, pageS);
  let workerP = null;
  for (const s of workers) {
    try {
      workerP = (await send("Profiler.stop", {}, s)).profile;
    } catch (e) {
      console.log(`worker profile lost: ${e.message}`);
    }
  }
  await page.evaluate(() => window.__endHeld());
  console.log(`${LIB} ${CASE}: ${(r.value * 1000).toFixed(2)} us per op under the profiler (n ${N}, sampling ${INTERVAL} us, load ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)})`);
  report("main", mainP, N);
  if (workerP) report("worker", workerP, N);
} finally {
  ws?.close();
  await browser.close();
  await server.close();
}

function report(name, p, n) {
  const self = new Map();
  const byId = new Map(p.nodes.map((nd) => [nd.id, nd]));
  const dt = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const d = p.timeDeltas[i + 1] ?? 0;
    dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + d);
  }
  let total = 0;
  for (const [nid, us] of dt) {
    const f = byId.get(nid).callFrame;
    const key = `${f.functionName || "(anon)"} ${f.url.split("/").pop()}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + us);
    total += us;
  }
  console.log(`\n## ${name}: ${(total / 1000).toFixed(0)} ms sampled, ${(total / n).toFixed(2)} us per op`);
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  for (const [k, us] of rows) console.log(`${(us / n).toFixed(3).padStart(8)} us  ${(100 * us / total).toFixed(1).padStart(5)}%  ${k}`);
}
