// A worker script outside the service worker's scope (tests/e2e/sw/app/):
// its requests do not reach the service worker.
import { bridge } from "/bridge-js/src/worker.js";

const b = await bridge();
b.sync.run = () => {
  const t0 = performance.now();
  try {
    return { ok: true, value: b.sync.add(1, 2) };
  } catch (e) {
    return { ok: false, error: { name: e.name, message: e.message }, ms: performance.now() - t0 };
  }
};
