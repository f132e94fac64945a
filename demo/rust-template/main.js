// The page: a BridgeWorker whose worker is Rust.
import { BridgeWorker } from "../../bridge-js/src/main.js";

const out = document.querySelector("#out");
// A page served without COOP/COEP needs a service worker for Rust's
// blocking calls (docs/service-worker.md); on a cross-origin isolated page
// the option is ignored. `?sw` here tries it with the demo's service worker,
// whose scope (/demo/) holds this page and worker.js.
const serviceWorker = new URLSearchParams(location.search).has("sw") ? { serviceWorker: "../bridge-sw.js" } : {};
const w = new BridgeWorker(new URL("./worker.js", import.meta.url), { type: "module", ...serviceWorker });
// Rust calls this with main_thread().call("shout", ...).
w.sync.shout = (s) => s.toUpperCase();

try {
  await w.ready;
  const greeting = await w.sync.greet({ name: "Ada", visits: 41 });
  const sum = await w.sync.add(2, 3.5);
  out.textContent = `${greeting.text} (${greeting.paragraphs} paragraphs; 2 + 3.5 = ${sum})`;
  window.__template = { greeting, sum, transport: w.transport, error: null };
} catch (e) {
  out.textContent = `failed: ${e}`;
  window.__template = { error: String(e && e.stack || e) };
}
