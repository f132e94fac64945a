// One of several workers started at once by pages/main/multi.js (no runCases:
// the page starts these itself). `?k=` is the worker's number, `?n=` how many
// calls it makes once all four are calling.
import { bridge } from "/bridge-js/src/worker.js";

const query = new URL(self.location.href).searchParams;
const k = Number(query.get("k"));
const { sync, window } = await bridge();
sync.square = (x) => x * x + k;

let obs;
try {
  // Call until the page has seen every worker calling: all of them were
  // calling the main thread at the same time.
  const t0 = performance.now();
  let started = 0;
  let spins = 0;
  while ((started = sync.started(k)) < 4 && performance.now() - t0 < 20_000) spins++;
  let wrong = 0;
  const N = Number(query.get("n") ?? 3000);
  for (let i = 0; i < N; i++) if (sync.tick(k, i) !== i * 4 + k) wrong++;
  window.document.body.dataset[`worker${k}`] = `done ${N}`;
  obs = {
    k,
    sawAllStarted: started,
    spins,
    N,
    wrong,
    documentSame: window.document === window.document,
    title: window.document.title,
  };
} catch (e) {
  obs = { k, error: `${e.name}: ${e.message}` };
}
sync.finished(obs);
