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
    exitCode = await runPythonExample(browser, server.url);
    if (exitCode === 0) exitCode = await runThreadsDemo(browser, server.url);
  }
} catch (e) {
  console.error(`demo failed: ${e.message}${errors.length ? `\npage errors:\n  ${errors.join("\n  ")}` : ""}`);
} finally {
  await browser.close();
  await server.close();
}
process.exit(exitCode);

// The editor page (demo/editor/): run its "DOM manipulation" example in a
// real MicroPython worker, print the Python output; 0 on success.
async function runPythonExample(browser, base) {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  const url = `${base}/demo/editor/`;
  console.log(`opening ${url} (MicroPython editor), running the "DOM manipulation" example`);
  await page.goto(url);
  await page.click('[data-example="dom"]');
  await page.click("#run");
  await page.waitForFunction(
    () => window.__editor.runs > 0 && (window.__editor.status === "done" || window.__editor.status === "error"),
    null,
    { timeout: 120_000, polling: 100 },
  );
  const ed = await page.evaluate(() => ({ ...window.__editor }));
  const target = (await page.locator("#target").textContent()).trim();
  for (const l of ed.lines) console.log(`  [python] ${l}`);
  console.log(`  #target now reads: ${JSON.stringify(target.slice(0, 120))}`);
  await page.close();
  if (ed.status !== "done" || pageErrors.length) {
    console.error(`python example failed: ${ed.error ?? pageErrors.join("; ")}`);
    return 1;
  }
  if (target === "") {
    console.error("python example finished but did not change the page's #target");
    return 1;
  }
  console.log(`ok: MicroPython drove the DOM through the ${ed.transport} transport`);
  return 0;
}

// The Rust threads demo (demo/mandelbrot/): a Mandelbrot set on a
// wasm-bindgen-rayon pool in a worker, every pool thread calling the page
// synchronously. Prints its progress lines, the checksums and the times;
// 0 on success.
async function runThreadsDemo(browser, base) {
  const page = await browser.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (m.text().startsWith("[threads] ")) console.log(`  ${m.text().slice(10)}`);
    else if (m.type() === "error") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  const url = `${base}/demo/mandelbrot/`;
  console.log(`opening ${url} (Rust rayon pool in a worker, wasm threads)`);
  await page.goto(url);
  await page.waitForFunction(() => window.__threads && window.__threads.done, null, { timeout: 120_000, polling: 50 });
  const s = await page.evaluate(() => window.__threads);
  await page.close();
  if (s.error !== null || problems.length) {
    console.error(`threads demo failed: ${s.error ?? problems.join("; ")}`);
    return 1;
  }
  const r = s.results;
  const agree = r.render.checksum === r.single.checksum && r.pageChecksum === r.single.checksum;
  if (!agree || r.all.answered_by_thread.some((n) => n !== r.calls)) {
    console.error("threads demo ran but its results disagree (see the lines above)");
    return 1;
  }
  console.log(
    `ok: ${r.threads} pool threads, ${r.threads * r.calls} sync calls at once in ${r.allMs.toFixed(1)} ms; ` +
      `${r.view.width}x${r.view.height} rendered in ${r.renderMs.toFixed(1)} ms with ${r.view.height} row calls ` +
      `(one thread, no calls: ${r.singleMs.toFixed(1)} ms); checksum 0x${r.single.checksum.toString(16)} everywhere`,
  );
  return 0;
}
