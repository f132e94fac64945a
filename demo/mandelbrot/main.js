// The page of the wasm-threads demo (demo/mandelbrot/): a BridgeWorker whose
// worker is Rust with a rayon pool. The pool threads call `row` and `echo`
// below synchronously, each through its own channel in the worker's wasm
// memory (adopted by BridgeWorker; bridge-js/src/adopt.js).
//
// `window.__threads` is what `cargo xtask demo --headless` and
// tests/e2e/rust/threads.e2e.mjs read.
import { BridgeWorker, adoptedStats } from "/bridge-js/src/main.js";

const params = new URLSearchParams(location.search);
const THREADS = Math.max(1, Number(params.get("threads")) || Math.min(Math.max(navigator.hardwareConcurrency || 2, 2), 8));
const CALLS = Math.max(1, Number(params.get("calls")) || 50);
const VIEW = { width: 320, height: 240, max_iter: 500, x0: -2.2, y0: -1.2, step: 0.01 };

const state = (window.__threads = { log: [], done: false, error: null, results: null });
const logEl = document.getElementById("log");
const statusEl = document.getElementById("status");
const progressEl = document.getElementById("progress");
const ctx = document.getElementById("canvas").getContext("2d");

function log(line) {
  state.log.push(line);
  logEl.textContent += line + "\n";
  console.log(`[threads] ${line}`);
}

function setStatus(text, s) {
  statusEl.textContent = text;
  statusEl.dataset.state = s;
}

// FNV-1a over the counts, rows in order: the same as the Rust `checksum`.
export function checksum(rows) {
  let h = 0x811c9dc5;
  for (const r of rows) for (const c of r) h = Math.imul(h ^ c, 16777619) >>> 0;
  return h;
}

function color(count, max) {
  if (count >= max) return [0, 0, 0];
  const t = Math.sqrt(count / max);
  return [Math.round(255 * t), Math.round(255 * t * t), Math.round(120 + 135 * (1 - t))];
}

const list = document.getElementById("threads");
for (let t = 0; t < THREADS; t++) {
  const li = document.createElement("li");
  li.innerHTML = `<span id="thread-${t}">pool thread ${t}: waiting</span> · <span id="rows-${t}">0 rows</span>`;
  list.append(li);
}

const rows = new Array(VIEW.height).fill(null);
const rowsByThread = new Array(THREADS).fill(0);
const rowSeen = new Array(VIEW.height).fill(0);
const echoes = (state.echoes = Array.from({ length: THREADS }, () => []));
let rowsDone = 0;

async function main() {
  log(`page: crossOriginIsolated = ${self.crossOriginIsolated}, ${THREADS} pool threads`);
  const q = new URLSearchParams({ threads: THREADS });
  if (params.has("channels")) q.set("channels", params.get("channels"));
  const w = new BridgeWorker(new URL(`./worker.js?${q}`, import.meta.url), { type: "module" });
  // Called by a pool thread for every row it finishes; it blocks until this returns.
  w.sync.row = (t, y, counts) => {
    rowSeen[y]++;
    rows[y] = counts;
    rowsByThread[t]++;
    rowsDone++;
    const img = ctx.createImageData(counts.length, 1);
    for (let x = 0; x < counts.length; x++) {
      const [r, g, b] = color(counts[x], VIEW.max_iter);
      img.data.set([r, g, b, 255], x * 4);
    }
    ctx.putImageData(img, 0, y);
    document.getElementById(`rows-${t}`).textContent = `${rowsByThread[t]} rows`;
    progressEl.textContent = `${rowsDone} / ${VIEW.height} rows`;
    if (rowsDone % 40 === 0) log(`row ${y} from pool thread ${t}: ${rowsDone} / ${VIEW.height} rows drawn`);
  };
  // Every pool thread calls this CALLS times, all starting together.
  w.sync.echo = (t, j) => {
    echoes[t].push(j);
    return t * 1000 + j;
  };
  const t0 = performance.now();
  await w.ready;
  log(`worker ready in ${(performance.now() - t0).toFixed(0)} ms (wasm, pool of ${THREADS}, ${adoptedStats(w).length} channels adopted)`);
  setStatus("running", "pending");

  if (params.has("panic")) {
    // A Rust panic on the worker's thread, another call pending behind it,
    // and one after: each rejects with the ClosedError that says why.
    const settle = (p) => p.then((v) => `resolved: ${JSON.stringify(v)}`, (e) => `${e.name}: ${e.message}`);
    const [call, pending] = await Promise.all([settle(w.sync.panics("the demo's test panic")), settle(w.sync.freeChannels())]);
    const later = await settle(w.sync.freeChannels());
    state.results = { panic: { call, pending, later } };
    log(`panic: ${call}`);
    setStatus("panicked (as asked)", "done");
    w.terminate();
    return;
  }

  let t1 = performance.now();
  const all = await w.sync.allAtOnce(CALLS);
  const allMs = performance.now() - t1;
  log(`all ${all.threads} pool threads called the page ${CALLS} times each at once: answered ${JSON.stringify(all.answered_by_thread)} in ${allMs.toFixed(1)} ms`);
  const freeAfter = await w.sync.freeChannels();

  t1 = performance.now();
  const render = await w.sync.render(VIEW);
  const renderMs = performance.now() - t1;
  const pageChecksum = checksum(rows.map((r) => r ?? []));
  log(`rendered ${VIEW.width}x${VIEW.height} on ${render.threads} threads in ${renderMs.toFixed(1)} ms, rows by thread ${JSON.stringify(render.rows_by_thread)}`);

  t1 = performance.now();
  const single = await w.sync.single(VIEW);
  const singleMs = performance.now() - t1;
  const same = render.checksum === single.checksum && pageChecksum === single.checksum;
  log(`checksum: pool ${hex(render.checksum)}, single thread ${hex(single.checksum)} (${singleMs.toFixed(1)} ms, no calls), drawn on the page ${hex(pageChecksum)}: ${same ? "equal" : "DIFFERENT"}`);

  state.results = {
    threads: THREADS,
    calls: CALLS,
    view: VIEW,
    crossOriginIsolated: self.crossOriginIsolated,
    adopted: adoptedStats(w).map((s) => s.byteOffset),
    freeAfter,
    all,
    allMs,
    echoes,
    threadLines: Array.from({ length: THREADS }, (_, t) => document.getElementById(`thread-${t}`).textContent),
    render,
    renderMs,
    single,
    singleMs,
    pageChecksum,
    pageTotal: rows.reduce((s, r) => s + (r ?? []).reduce((a, c) => a + c, 0), 0),
    rowSeen,
    rowsByThreadPage: rowsByThread,
    progress: progressEl.textContent,
    mainExports: w.stats().exports,
  };
  setStatus(same ? "done" : "checksums differ", same ? "atomics" : "error");
  w.terminate();
}

function hex(n) {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

main().then(
  () => { state.done = true; },
  (e) => {
    state.error = `${e && e.name}: ${e && e.message}`;
    log(`error: ${state.error}`);
    setStatus("error", "error");
    state.done = true;
  },
);
