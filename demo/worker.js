// The demo worker: it drives the page's DOM with plain synchronous code.
import { bridge } from "/bridge-js/src/worker.js";

const { sync, window, transport, native } = await bridge();
let error = null;
sync.status = () => ({ transport, native, error });

try {
  sync.log(`started; transport = ${transport}, native = ${native}`);
  const doc = window.document;

  const href = window.location.href;
  sync.log(`window.location.href = ${href}`);

  doc.getElementById("status").textContent = `Hello from the worker at ${new Date().toLocaleTimeString()}.`;

  const list = doc.getElementById("list");
  for (const fruit of ["apple", "banana", "cherry", "damson"]) {
    const li = doc.createElement("li");
    li.textContent = `${fruit} (appended by the worker)`;
    list.appendChild(li);
  }
  const items = list.children.length;
  sync.log(`built a list of ${items} items`);

  const title = doc.title;
  sync.log(`document.title = "${title}"`);

  // Warm up first (the first calls run unoptimised code), then time.
  // The service-worker transport takes milliseconds a call: fewer there.
  const N = transport === "atomics" ? 10000 : 1000;
  for (let i = 0; i < N / 10; i++) sync.ping(i);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    if (sync.ping(i) !== i + 1) throw new Error(`ping(${i}) returned the wrong value`);
  }
  const ms = performance.now() - t0;
  const callsPerSecond = Math.round((N / ms) * 1000);
  doc.getElementById("rate").textContent = `${callsPerSecond.toLocaleString("en")} calls/s (${((ms * 1000) / N).toFixed(1)} µs each)`;
  sync.log(`${N} sync calls in ${ms.toFixed(1)} ms: ${callsPerSecond} calls/s`);

  sync.finished({ transport, native, href, title, items, calls: N, ms, callsPerSecond });
} catch (e) {
  error = `${e.name}: ${e.message}`;
  // On the async transport this call returns a Promise; if it cannot reach
  // the page at all, the page asks sync.status() instead.
  try {
    await sync.failed(error, transport);
  } catch {}
}
