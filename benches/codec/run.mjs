// JS or wasm conversion, measured: bridge-js's JS codec against the Rust
// conversion of crates/bridge-wasm (feature `convert`, in bridge-js/pkg/full),
// on the same values in the same process: Node, then headless Chromium.
//
//   cargo xtask build                        # builds bridge-js/pkg/full
//   node benches/codec/run.mjs               # Node and Chromium
//   node benches/codec/run.mjs --node        # Node only
//   node benches/codec/run.mjs --smoke       # a quick pass (CI, checks it runs)
//
// Prints one table per runtime. Timings on a shared machine are noisy:
// compare the wasm/JS ratio of one run, not absolute numbers across runs.
import { readFileSync, existsSync } from "node:fs";
import { encodeValue, decodeValue } from "../../bridge-js/src/wire.js";
import { run, table } from "./bench.js";

const smoke = process.argv.includes("--smoke");
const nodeOnly = process.argv.includes("--node");

const pkgDir = new URL("../../bridge-js/pkg/full/", import.meta.url);
if (!existsSync(new URL("bridge_wasm_bg.wasm", pkgDir))) {
  console.error("bridge-js/pkg/full is missing: run `cargo xtask build` first");
  process.exit(1);
}
const pkg = await import(new URL("bridge_wasm.js", pkgDir));
pkg.initSync({ module: readFileSync(new URL("bridge_wasm_bg.wasm", pkgDir)) });
if (typeof pkg.convertEncodeValue !== "function") {
  console.error("bridge-js/pkg/full has no convertEncodeValue: rebuild it (`cargo xtask build`; feature `convert` is in `full`)");
  process.exit(1);
}

console.log(table(run({ encodeValue, decodeValue }, pkg, { smoke }), `Node ${process.version}${smoke ? " (smoke)" : ""}`));

if (!nodeOnly) {
  const { launchBrowser } = await import("../../tests/e2e/harness.mjs");
  const { startServer } = await import("../../tests/server.mjs");
  const server = await startServer({ isolated: true });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    page.on("pageerror", (e) => console.error("[page]", e.message));
    await page.goto(`${server.url}/benches/codec/page.html${smoke ? "?smoke" : ""}`);
    await page.waitForFunction(() => window.__codec && window.__codec.done, null, { timeout: 600_000, polling: 200 });
    const r = await page.evaluate(() => window.__codec);
    if (r.error) throw new Error(`the page failed: ${r.error}`);
    console.log();
    console.log(table(r.rows, `Chromium ${browser.version()}${smoke ? " (smoke)" : ""}`));
  } finally {
    await browser.close();
    await server.close();
  }
}
