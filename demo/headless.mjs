// `cargo xtask demo --headless`: open the demo once in headless Chromium,
// print the page's log and the measured figure; exit 1 if anything failed.
import { launchBrowser } from "../tests/e2e/harness.mjs";
import { startServer } from "../tests/server.mjs";

const server = await startServer({ isolated: true });
const browser = await launchBrowser();
const errors = [];
let exitCode = 1;
try {
  const page = await browser.newPage();
  page.on("console", (m) => {
    if (m.text().startsWith("[demo] ")) console.log(`  ${m.text().slice(7)}`);
    else console.log(`  [${m.type()}] ${m.text()}`);
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  const url = `${server.url}/demo/`;
  console.log(`opening ${url}`);
  await page.goto(url);
  await page.waitForFunction(() => window.__demo && window.__demo.done, null, { timeout: 60_000, polling: 50 });
  const state = await page.evaluate(() => window.__demo);
  const shown = {
    transport: await page.locator("#transport").textContent(),
    status: await page.locator("#status").textContent(),
    items: await page.locator("#list li").count(),
    rate: await page.locator("#rate").textContent(),
  };
  console.log(`page shows: transport "${shown.transport}", ${shown.items} list items, rate "${shown.rate}"`);
  if (!state.ok) {
    console.error(`demo failed: ${state.error}`);
  } else if (errors.length) {
    console.error(`demo ran but the page reported errors:\n  ${errors.join("\n  ")}`);
  } else if (shown.items !== state.result.items || shown.transport !== state.result.transport) {
    console.error("demo ran but the page does not show what the worker reported");
  } else {
    const r = state.result;
    console.log(
      `ok: transport ${r.transport}, ${r.calls} sync calls worker -> main in ${r.ms.toFixed(1)} ms = ${r.callsPerSecond} calls/s`,
    );
    exitCode = 0;
  }
} catch (e) {
  console.error(`demo failed: ${e.message}${errors.length ? `\npage errors:\n  ${errors.join("\n  ")}` : ""}`);
} finally {
  await browser.close();
  await server.close();
}
process.exit(exitCode);
