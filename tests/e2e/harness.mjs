// The Chromium end-to-end harness: one headless Debian Chromium per spec file,
// the repository served by tests/server.mjs in the variants a spec asks for,
// and a fresh browser context + page per test that records console errors and
// page errors.
//
//   import { e2e } from "./harness.mjs";
//   const h = e2e({ servers: ["isolated", "plain", "csp"] });
//   test("x", async (t) => {
//     const r = await h.run(t, { worker: "proxy.js", case: "traps" });
//     ...
//   });
//
// Pages live in tests/e2e/pages, worker scripts in tests/e2e/workers. The
// generic page pages/run.html reads its query: `worker` (a script in
// tests/e2e/workers, started as a module BridgeWorker), `case` (passed to the
// worker), `main` (a module in tests/e2e/pages/main run on the page beside the
// worker), `pull` (fetch the worker's result with a main->worker call instead
// of waiting for the worker's sync `done` call: the async transport).
// `params` adds to the worker script's query (the worker and the page module
// both read it, e.g. counts that depend on the transport).
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { startServer } from "../server.mjs";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--js-flags=--expose-gc",
];
export const CSP = "script-src 'self' 'wasm-unsafe-eval'";
/** No wasm at all: whatever the package loads must work without compiling wasm. */
export const STRICT_CSP = "script-src 'self'";

const VARIANTS = {
  isolated: { isolated: true },
  plain: { isolated: false },
  csp: { isolated: true, csp: CSP },
  strict: { isolated: true, csp: STRICT_CSP },
  // No COOP/COEP, and the standalone service worker script
  // (/bridge-js/src/sw.js) may control "/": a page here that asks for the
  // service worker has it control /bridge-js/ too (the Rust worker's bootstrap).
  sw: { isolated: false, headers: (path) => SW_HEADERS(path) },
};

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run \`cargo xtask setup\` (installs Debian's chromium)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

// --- transport parametrisation (service-worker transport, issue 6) ---
// WB_E2E_TRANSPORT=service-worker runs the specs on the service-worker
// transport: the "isolated" and "csp" servers drop COOP/COEP, and run.html
// gets `sw=1` (BridgeWorker's serviceWorker option, scope /tests/e2e/). The
// Python pages use scope / (the bridge's python-worker.js lives in
// /bridge-js/src/ and must be controlled too), so sw.js may control /.
export const E2E_TRANSPORT = process.env.WB_E2E_TRANSPORT === "service-worker" ? "service-worker" : "atomics";
export const SW_HEADERS = (path) => (path === "/bridge-js/src/sw.js" ? { "service-worker-allowed": "/" } : null);
/** Does a page on this server variant use the service worker in this run (add `sw` to its query)? */
export const usesServiceWorker = (server) => E2E_TRANSPORT === "service-worker" && VARIANTS[server]?.isolated === true;
// --- end transport parametrisation ---

export function serverVariant(name) {
  const v = VARIANTS[name];
  if (!v) throw new Error(`unknown server variant "${name}"; known: ${Object.keys(VARIANTS).join(", ")}`);
  if (E2E_TRANSPORT === "service-worker" && v.isolated) return startServer({ ...v, isolated: false, headers: SW_HEADERS }); // transport parametrisation
  return startServer(v);
}

/**
 * Set up the browser and servers for the spec file (node:test before/after
 * hooks) and return helpers for its tests.
 */
export function e2e({ servers = ["isolated"] } = {}) {
  const ctx = { browser: null, servers: {} };
  before(async () => {
    ctx.browser = await launchBrowser();
    for (const name of servers) ctx.servers[name] = await serverVariant(name);
  });
  after(async () => {
    await ctx.browser?.close();
    await Promise.all(Object.values(ctx.servers).map((s) => s.close()));
  });

  /** A fresh context and page on the `server` variant; closed after the test. */
  async function open(t, { server = "isolated" } = {}) {
    const srv = ctx.servers[server];
    if (!srv) throw new Error(`server variant "${server}" was not started: pass it to e2e({ servers })`);
    const context = await ctx.browser.newContext();
    const page = await context.newPage();
    const log = [];
    const errors = [];
    let onError = null;
    const error = (line) => {
      errors.push(line);
      onError?.(line);
    };
    page.on("console", (m) => {
      const at = m.location()?.url;
      const line = `[${m.type()}] ${m.text()}${at ? ` (${at})` : ""}`;
      log.push(line);
      if (m.type() === "error") error(line);
    });
    page.on("pageerror", (e) => {
      log.push(`[pageerror] ${e.stack || e.message}`);
      error(`[pageerror] ${e.message}`);
    });
    page.on("crash", () => error("[crash] the page crashed"));
    t.after(() => context.close());
    // A promise that rejects at the first console error or page error (after a
    // moment to collect the ones that follow it), so a broken page fails fast.
    const firstError = new Promise((_, reject) => {
      onError = () => {
        onError = null;
        setTimeout(() => reject(new Error(`the page reported errors:\n  ${errors.join("\n  ")}`)), 300);
      };
    });
    firstError.catch(() => {});
    return { page, log, errors, firstError, url: (path) => srv.url + path, server: srv };
  }

  /**
   * Open pages/run.html with the given worker/case/main and wait until the page
   * says it is done. Returns { state, page, log, errors, response }.
   * `state` is what the page collected: { worker, main, error, violations, ... }.
   */
  async function run(t, { worker, case: caseName, params = {}, main, pull = false, server = "isolated", timeout = 60_000, beforeDone } = {}) {
    const p = await open(t, { server });
    const q = new URLSearchParams();
    if (worker) {
      const w = new URLSearchParams();
      if (caseName) w.set("case", caseName);
      for (const [k, v] of Object.entries(params)) w.set(k, String(v)); // more of the case's query (e.g. counts)
      if (pull) w.set("pull", "1");
      q.set("worker", `/tests/e2e/workers/${worker}?${w}`);
    }
    if (main) q.set("main", `/tests/e2e/pages/main/${main}`);
    if (pull) q.set("pull", "1");
    if (usesServiceWorker(server)) q.set("sw", "1"); // transport parametrisation
    const response = await p.page.goto(p.url(`/tests/e2e/pages/run.html?${q}`));
    assert.equal(response.status(), 200, "run.html must be served");
    if (beforeDone) await beforeDone(p);
    await waitFor(p, "done", timeout);
    const state = await p.page.evaluate(() => window.__e2e);
    return { ...p, state, response };
  }

  return { ctx, open, run };
}

/**
 * Wait until `window.__e2e[flag]` is truthy; on time-out or a page error, fail
 * with the page's log. (A function predicate, not a string: strings are
 * evaluated with eval, which the CSP page forbids.)
 */
export async function waitFor(p, flag, timeout = 60_000) {
  const expression = `window.__e2e.${flag}`;
  try {
    await Promise.race([
      p.page.waitForFunction((f) => window.__e2e && window.__e2e[f], flag, { timeout, polling: 50 }),
      p.firstError,
    ]);
  } catch (e) {
    const state = await p.page.evaluate(() => window.__e2e).catch(() => null);
    throw new Error(
      `${e.message.split("\n")[0].startsWith("the page reported") ? `${e.message}\n` : `failed (time-out ${timeout} ms): ${e.message}\n`}` +
        `while waiting for \`${expression}\`\n` +
        `page state: ${JSON.stringify(state)}\n` +
        `page log:\n  ${p.log.join("\n  ") || "(empty)"}`,
      { cause: e },
    );
  }
}

function formatError(e) {
  if (!e) return String(e);
  return `${e.name}: ${e.message}${e.stack ? `\n${e.stack}` : ""}`;
}

/** The worker's case result, asserting that the page and the worker both succeeded. */
export function workerResult(r) {
  assert.equal(r.state.error, null, `the page failed: ${formatError(r.state.error)}\npage log:\n  ${r.log.join("\n  ")}`);
  assert.ok(r.state.worker, `the worker reported nothing\npage log:\n  ${r.log.join("\n  ")}`);
  assert.ok(r.state.worker.ok, `the worker case threw: ${formatError(r.state.worker.error)}\npage log:\n  ${r.log.join("\n  ")}`);
  return r.state.worker.value;
}

/** The page's main-module result, asserting that the page succeeded. */
export function mainResult(r) {
  assert.equal(r.state.error, null, `the page failed: ${formatError(r.state.error)}\npage log:\n  ${r.log.join("\n  ")}`);
  return r.state.main;
}

/** No console errors, page errors or CSP violations. */
export function assertClean(r, { allow = [] } = {}) {
  const errors = r.errors.filter((line) => !allow.some((re) => re.test(line)));
  assert.deepEqual(errors, [], `console/page errors:\n  ${errors.join("\n  ")}`);
  assert.deepEqual(r.state?.violations ?? [], [], "Content-Security-Policy violations");
}
