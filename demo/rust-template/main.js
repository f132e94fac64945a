// The page: a BridgeWorker whose worker is Rust.
import { BridgeWorker } from "../../bridge-js/src/main.js";

const out = document.querySelector("#out");
const w = new BridgeWorker(new URL("./worker.js", import.meta.url), { type: "module" });
// Rust calls this with main_thread().call("shout", ...).
w.sync.shout = (s) => s.toUpperCase();

try {
  await w.ready;
  const greeting = await w.sync.greet({ name: "Ada", visits: 41 });
  const sum = await w.sync.add(2, 3.5);
  out.textContent = `${greeting.text} (${greeting.paragraphs} paragraphs; 2 + 3.5 = ${sum})`;
  window.__template = { greeting, sum, error: null };
} catch (e) {
  out.textContent = `failed: ${e}`;
  window.__template = { error: String(e && e.stack || e) };
}
