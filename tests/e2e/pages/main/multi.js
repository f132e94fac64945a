// Four workers calling the main thread at once (workers/multi.js). This
// module's query: `n`, the calls each worker makes after all four started.
const WORKERS = 4;
const N = Number(new URL(import.meta.url).searchParams.get("n") ?? 3000);

export default async function main({ BridgeWorker, log }) {
  const started = new Set();
  const ticks = new Array(WORKERS).fill(0);
  const finished = [];
  const workers = [];
  for (let k = 0; k < WORKERS; k++) {
    const w = new BridgeWorker(`/tests/e2e/workers/multi.js?k=${k}&n=${N}`, { type: "module" });
    w.sync.started = (who) => {
      started.add(who);
      return started.size;
    };
    w.sync.tick = (who, i) => {
      ticks[who]++;
      return i * 4 + who;
    };
    finished.push(new Promise((resolve) => (w.sync.finished = resolve)));
    workers.push(w);
  }
  const reports = await Promise.all(finished);
  log("all workers finished", reports.map((r) => r.k).join(","));
  // main -> worker, all four at once
  const squares = await Promise.all(workers.map((w, k) => w.sync.square(k + 10)));
  const datasets = Object.fromEntries(Object.entries(document.body.dataset));
  for (const w of workers) w.terminate();
  return { reports, ticks, squares, datasets };
}
