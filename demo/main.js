// The demo page: start the worker, give it a few main-thread functions, show
// what it reports. `window.__demo` is what `cargo xtask demo --headless` reads.
import { BridgeWorker } from "/bridge-js/src/main.js";

const state = (window.__demo = { log: [], done: false, ok: false, result: null, error: null });
const logEl = document.getElementById("log");
const indicator = document.getElementById("transport");

function log(line) {
  state.log.push(line);
  logEl.textContent += line + "\n";
  console.log(`[demo] ${line}`);
}

function showTransport(name) {
  indicator.textContent = name;
  indicator.dataset.state = name;
}

function fail(message, transport = "error") {
  state.error = message;
  showTransport(transport);
  document.getElementById("status").textContent = message;
  log(`error: ${message}`);
  state.done = true;
}

log(`page: crossOriginIsolated = ${self.crossOriginIsolated}`);
const started = performance.now();
// `?sw`: without cross-origin isolation, block through the service worker
// ./bridge-sw.js instead (docs/service-worker.md).
const swOption = new URLSearchParams(location.search).has("sw") ? { serviceWorker: "./bridge-sw.js" } : {};
const worker = new BridgeWorker("./worker.js", { type: "module", ...swOption });

worker.sync.log = (line) => log(`worker: ${line}`);
worker.sync.ping = (i) => i + 1;
worker.sync.finished = (result) => {
  state.result = result;
  state.ok = true;
  state.done = true;
  showTransport(result.transport);
  log(`done in ${(performance.now() - started).toFixed(0)} ms (worker start included)`);
};
worker.sync.failed = (message, transport) => fail(`the worker failed: ${message}`, transport);

// Without cross-origin isolation there is no blocking call: ask the worker
// (main -> worker calls still work) what it sees and show it.
if (worker.transport === "async") {
  setTimeout(async () => {
    if (state.done) return;
    try {
      const info = await worker.sync.status();
      fail(info.error ?? `no blocking calls possible (transport ${info.transport})`, info.transport);
    } catch (e) {
      fail(String(e && e.message ? e.message : e));
    }
  }, 500);
}
setTimeout(() => {
  if (!state.done) fail("no answer from the worker after 60 s");
}, 60_000);
