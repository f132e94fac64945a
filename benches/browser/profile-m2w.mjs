// Where a main->worker call's time goes, per thread: V8's sampling profiler
// (CDP `Profiler`) on the bench page and on its worker over a long `m2w`
// burst (issue 17 item 3; docs/benchmarks.md "Main->worker calls (stop 16)").
//
//   node benches/browser/profile-m2w.mjs [--lib ours] [--n 60000] [--interval 25] [--top 25] [--case m2w]
//
// --lib: an adapter of benches/browser/libs (ours, ours-dist, coincident, or a
// path relative to libs/ such as ../.build/variants/<name>/ours from
// bundle-variants.mjs). Prints, for the page and the worker, self time per
// function in us per call (and the share of the thread's time), then the
// inclusive time of the functions that matter on this path. Samples of a
// thread asleep are "(idle)"; those count as time between calls, not cost.
import { chromium } from "playwright-core";
import { loadavg } from "node:os";
import { cdp } from "./cdp.mjs";
import { startServer } from "../../tests/server.mjs";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const LIB = opt("--lib", "ours");
const N = Number(opt("--n", 60000));
const INTERVAL = Number(opt("--interval", 25));
const TOP = Number(opt("--top", 25));
// --case: another case of the bench page (small, title, str64k, f64, ...).
const CASE = opt("--case", "m2w");
const PORT = 9300 + Math.floor(Math.random() * 500);

function summarize(profile, calls) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n) => {
    const f = n.callFrame;
    const file = f.url ? f.url.replace(/^.*\//, "").replace(/\?.*$/, "") : "";
    return `${f.functionName || "(anonymous)"} ${file}${file ? `:${f.lineNumber + 1}` : ""}`;
  };
  const self = new Map();
  const incl = new Map();
  let total = 0;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time since sample i-1: charge it to sample i-1's node
    const dt = i + 1 < samples.length ? timeDeltas[i + 1] : 0;
    total += dt;
    let n = nodes.get(samples[i]);
    const k = key(n);
    self.set(k, (self.get(k) ?? 0) + dt);
    const seen = new Set();
    for (; n !== undefined; n = nodes.get(parent.get(n.id))) {
      const kk = key(n);
      if (seen.has(kk)) continue;
      seen.add(kk);
      incl.set(kk, (incl.get(kk) ?? 0) + dt);
    }
  }
  const us = (t) => (t / calls).toFixed(2).padStart(7); // timeDeltas are us
  const pct = (t) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
  const lines = [`  total ${(total / 1000).toFixed(0)} ms over ${calls} calls: ${us(total)} us a call`];
  lines.push("  self time, us a call:");
  for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) lines.push(`  ${us(t)} ${pct(t)}  ${k}`);
  lines.push("  inclusive time (functions over 1% of the thread's time), us a call:");
  for (const [k, t] of [...incl].sort((a, b) => b[1] - a[1])) {
    if (t < total / 100 || k.startsWith("(root)")) continue;
    lines.push(`  ${us(t)} ${pct(t)}  ${k}`);
  }
  return lines.join("\n");
}

async function main() {
  const server = await startServer({ isolated: true });
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", `--remote-debugging-port=${PORT}`],
  });
  let c;
  try {
    const version = await (await fetch(`http://127.0.0.1:${PORT}/json/version`)).json();
    c = cdp(version.webSocketDebuggerUrl);
    await c.open;
    const page = await browser.newPage();
    await page.goto(`${server.url}/benches/browser/index.html?lib=${encodeURIComponent(LIB)}`);
    const ready = await page.waitForFunction(() => window.benchReady, null, { timeout: 30_000 }).then((h) => h.jsonValue());
    if (!ready.ok) throw new Error(ready.error);
    const { targetInfos } = await c.send("Target.getTargets");
    const pageTarget = targetInfos.find((t) => t.type === "page" && t.url.includes("/benches/browser/index.html"));
    const { sessionId: ps } = await c.send("Target.attachToTarget", { targetId: pageTarget.targetId, flatten: true });
    const sessions = { page: ps };
    const started = [];
    const startProfiler = async (s) => {
      await c.send("Profiler.enable", {}, s);
      await c.send("Profiler.setSamplingInterval", { interval: INTERVAL }, s);
      await c.send("Profiler.start", {}, s);
    };
    c.on((m) => {
      if (m.method === "Target.attachedToTarget" && m.params.targetInfo.type === "worker" && sessions.worker === undefined) {
        sessions.worker = m.params.sessionId;
        started.push(startProfiler(m.params.sessionId).then(() => c.send("Runtime.runIfWaitingForDebugger", {}, m.params.sessionId)));
      }
    });
    await c.send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: true, flatten: true }, ps);
    await startProfiler(ps);
    // The bench terminates its worker when the case ends: keep it alive until
    // its profile is taken.
    await page.evaluate(() => {
      window.__kept = [];
      Worker.prototype.terminate = function () { window.__kept.push(this); };
    });
    const r = await page.evaluate(([n, c]) => window.bench(c, { n, warm: 500 }), [N, CASE]);
    if (!r.ok) throw new Error(r.error);
    await Promise.all(started);
    const out = {};
    for (const [side, s] of Object.entries(sessions)) out[side] = (await c.send("Profiler.stop", {}, s)).profile;
    const load = loadavg().map((x) => x.toFixed(1)).join(" ");
    console.log(`${CASE} profile, lib ${LIB}, ${N} calls (+500 warm-up and the start), sampling every ${INTERVAL} us; bench ${(r.value * 1000).toFixed(2)} us a call; load ${load}`);
    for (const side of ["page", "worker"]) {
      if (!out[side]) { console.log(`\n## ${side}: no profile`); continue; }
      console.log(`\n## ${side}\n${summarize(out[side], N)}`);
    }
  } finally {
    c?.close();
    await browser.close();
    await server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
