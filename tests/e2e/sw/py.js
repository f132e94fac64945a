// MicroPython in a worker on the service-worker transport (py-editor's case:
// no cross-origin isolation). The service worker is bridge-js/src/sw.js with
// scope "/", so that the bridge's own python-worker.js is controlled too.
import { MPWorker } from "/bridge-js/src/python.js";

const state = (window.__py = { done: false, error: null, transport: null, out: [] });
try {
  const w = new MPWorker("./hello.py", { serviceWorker: { url: "/bridge-js/src/sw.js", scope: "/" } });
  w.sync.add = (a, b) => a + b;
  await w.ready;
  state.transport = w.transport;
  await w.done;
} catch (e) {
  state.error = `${e.name}: ${e.message}`;
}
state.done = true;
