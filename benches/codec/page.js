// Chromium side of benches/codec/run.mjs: the same bench.js, in a page.
import { encodeValue, decodeValue } from "/bridge-js/src/wire.js";
import init, { convertEncodeValue, convertDecodeValue } from "/bridge-js/pkg/full/bridge_wasm.js";
import { run } from "./bench.js";

const smoke = new URLSearchParams(location.search).has("smoke");
window.__codec = { done: false, rows: null, error: null };
try {
  await init();
  window.__codec.rows = run({ encodeValue, decodeValue }, { convertEncodeValue, convertDecodeValue }, { smoke });
} catch (e) {
  window.__codec.error = String(e && e.stack ? e.stack : e);
}
window.__codec.done = true;
