// The service-worker transport (docs/service-worker.md): sync calls without
// cross-origin isolation. The server sends no COOP/COEP; the pages and the
// service worker live in tests/e2e/sw/app/ (the service worker's scope).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, SW_HEADERS } from "./harness.mjs";
import { startServer } from "../server.mjs";

const APP = "/tests/e2e/sw/app/";
let browser;
let server;

before(async () => {
  browser = await launchBrowser();
  server = await startServer({
    isolated: false,
    // The standalone script lives in bridge-js/src/ but controls the app folder.
    headers: SW_HEADERS,
  });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** A fresh browser context (no service worker installed yet) and its page log. */
async function newContext(t) {
  const context = await browser.newContext();
  t.after(() => context.close());
  return context;
}

async function openApp(t, context, query = {}, { wait = true } = {}) {
  const page = await context.newPage();
  const log = [];
  page.on("console", (m) => log.push(`[${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => log.push(`[pageerror] ${e.stack || e.message}`));
  const qs = new URLSearchParams(query);
  const res = await page.goto(`${server.url}${APP}page.html?${qs}`);
  assert.equal(res.status(), 200);
  if (wait) await ready(page, log);
  return { page, log };
}

async function ready(page, log, timeout = 30_000) {
  try {
    await page.waitForFunction(() => window.__sw && window.__sw.ready, null, { timeout, polling: 50 });
  } catch (e) {
    throw new Error(`the page did not get ready: ${e.message}\npage log:\n  ${log.join("\n  ")}`);
  }
  const st = await page.evaluate(() => ({ error: window.__sw.error, transport: window.__sw.transport, controlled: window.__sw.controlled }));
  return st;
}

/** Runs a worker case through `w.sync.run(name, ...args)`; returns { ok, value | error }. */
function call(p, name, ...args) {
  return p.page.evaluate(([n, a]) => window.__sw.call(n, ...a), [name, args]);
}

function ok(r, p) {
  assert.equal(r.ok, true, `the call failed: ${JSON.stringify(r.error)}\npage log:\n  ${p.log.join("\n  ")}`);
  return r.value;
}

test("first load, no service worker installed: it registers, controls the page and the worker makes sync calls", async (t) => {
  const ctx = await newContext(t);
  const p = await openApp(t, ctx);
  const st = await p.page.evaluate(() => ({ ...window.__sw }));
  assert.equal(st.error, null, JSON.stringify(st.error));
  assert.equal(st.controlledAtLoad, false, "a fresh context has no service worker");
  assert.equal(st.controlled, true, "the page is controlled once BridgeWorker is ready");
  assert.equal(st.reloaded, false, "clients.claim() made a reload unnecessary");
  assert.equal(st.transport, "service-worker");
  assert.equal(await p.page.evaluate(() => crossOriginIsolated), false);
  assert.deepEqual(ok(await call(p, "describe"), p), { transport: "service-worker", native: false, crossOriginIsolated: false, hasSAB: "undefined" });
  assert.deepEqual(ok(await call(p, "calls"), p), { add: 42, tag: null });
});

/** Polls `fn` in the page until it returns a truthy value, across navigations (the page may reload). */
async function pollPage(page, log, fn, what, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await page.evaluate(fn).catch(() => null); // null while the page navigates
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeout} ms\npage log:\n  ${log.join("\n  ")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("first load with a service worker that does not claim the page: one reload, then controlled and sync calls work", async (t) => {
  const ctx = await newContext(t);
  const p = await openApp(t, ctx, { sw: "noclaim" }, { wait: false });
  // The first load registers the service worker, is not controlled within
  // BridgeWorker's wait, and reloads once; the second load is controlled.
  const st = await pollPage(p.page, p.log, () => window.__sw?.ready && window.__sw.loads.length >= 2 && {
    loads: window.__sw.loads,
    error: window.__sw.error,
    transport: window.__sw.transport,
    controlled: window.__sw.controlled,
    reloadFlag: sessionStorage.getItem("worker-bridge:sw-reload"),
  }, "the page did not reload into a controlled state");
  assert.equal(st.error, null, JSON.stringify(st.error));
  assert.deepEqual(st.loads, [
    { controlled: false, navigation: "navigate" },
    { controlled: true, navigation: "reload" },
  ]);
  assert.equal(st.transport, "service-worker");
  assert.equal(st.controlled, true);
  assert.equal(st.reloadFlag, null, "the one-reload guard is cleared once the page is controlled");
  assert.deepEqual(ok(await call(p, "calls"), p), { add: 42, tag: null });
  assert.deepEqual(ok(await call(p, "dom"), p).sameDoc, true);
});

test("the same with reload: false: no reload, ready rejects with an error that says why", async (t) => {
  const ctx = await newContext(t);
  const p = await openApp(t, ctx, { sw: "noclaim-noreload" }, { wait: false });
  await ready(p.page, p.log);
  const st = await p.page.evaluate(() => ({ loads: window.__sw.loads, error: window.__sw.error }));
  assert.deepEqual(st.loads, [{ controlled: false, navigation: "navigate" }], "the page was not reloaded");
  assert.equal(st.error?.name, "BridgeError");
  assert.match(st.error.message, /is active but does not control this page/);
  assert.match(st.error.message, /clients\.claim\(\)|reloaded once/);
  // every call fails with the same error, none hangs
  const r = await call(p, "calls");
  assert.equal(r.ok, false);
  assert.match(r.error.message, /does not control this page/);
});

test("window and document from the worker through the service worker", async (t) => {
  const p = await openApp(t, await newContext(t));
  assert.deepEqual(ok(await call(p, "dom"), p), {
    title: "worker-bridge service-worker e2e",
    text: "written by the worker",
    sameDoc: true,
    items: 1,
    href: "/tests/e2e/sw/app/page.html",
  });
  assert.equal(await p.page.locator("#out").textContent(), "written by the worker");
});

test("the standalone script (bridge-js/src/sw.js registered as is, scope widened by Service-Worker-Allowed)", async (t) => {
  const p = await openApp(t, await newContext(t), { sw: "standalone" });
  const st = await p.page.evaluate(() => ({ error: window.__sw.error, transport: window.__sw.transport, script: navigator.serviceWorker.controller?.scriptURL }));
  assert.equal(st.error, null, JSON.stringify(st.error));
  assert.equal(st.transport, "service-worker");
  assert.equal(new URL(st.script).pathname, "/bridge-js/src/sw.js");
  assert.deepEqual(ok(await call(p, "calls"), p), { add: 42, tag: null });
});

test("merged into a site's service worker: the site's own routes still work", async (t) => {
  const p = await openApp(t, await newContext(t));
  const text = await p.page.evaluate(() => fetch("./site-own-route").then((r) => r.text()));
  assert.equal(text, "answered by the site's own listener");
  // and an ordinary file still comes from the server
  const st = await p.page.evaluate(() => fetch("./page.html").then((r) => r.status));
  assert.equal(st, 200);
});

test("nested re-entrant call: main_task awaits worker_task while the worker is blocked in main_task", async (t) => {
  const p = await openApp(t, await newContext(t));
  assert.equal(ok(await call(p, "nested"), p), "main_task got: worker_task result");
});

test("a 4 MiB payload both ways", async (t) => {
  const p = await openApp(t, await newContext(t));
  assert.deepEqual(ok(await call(p, "big", 4), p), { sent: 4 << 20, received: 4 << 20, firstMismatch: -1 });
  // main -> worker, 4 MiB argument (worker idle: postMessage)
  const r = await p.page.evaluate(() => window.__sw.callWorker("bigIn", new Uint8Array(4 << 20)));
  assert.deepEqual(r, { ok: true, value: 4 << 20 });
});

test("10,000 back-to-back sync calls", async (t) => {
  const p = await openApp(t, await newContext(t));
  const n = 10_000;
  const v = ok(await call(p, "loop", n), p);
  assert.equal(v.calls, n);
  const perCall = (v.ms * 1000) / n;
  t.diagnostic(`service-worker transport: ${n} sync calls in ${v.ms.toFixed(0)} ms: ${(n / (v.ms / 1000)).toFixed(0)} calls/s, ${perCall.toFixed(0)} us per call`);
});

test("two tabs at once never see each other's messages", async (t) => {
  const ctx = await newContext(t);
  const a = await openApp(t, ctx, { tag: "A" });
  const b = await openApp(t, ctx, { tag: "B" });
  const [ra, rb] = await Promise.all([call(a, "tagged", 1500), call(b, "tagged", 1500)]);
  assert.deepEqual(ok(ra, a), { tag: "A", calls: 1500 });
  assert.deepEqual(ok(rb, b), { tag: "B", calls: 1500 });
});

test("two workers in one tab never see each other's messages", async (t) => {
  const p = await openApp(t, await newContext(t), { tag: "T" });
  const r = await p.page.evaluate(async () => {
    const { BridgeWorker } = await import("/bridge-js/src/main.js");
    const w2 = new BridgeWorker("./worker.js", { type: "module", serviceWorker: "./bridge-sw.js" });
    w2.sync.tag = () => "second";
    w2.sync.add = (a, b) => a + b;
    const [one, two] = await Promise.all([window.__worker.sync.run("tagged", 1000), w2.sync.run("tagged", 1000)]);
    w2.terminate();
    return { one, two };
  });
  assert.deepEqual(r, { one: { tag: "T", calls: 1000 }, two: { tag: "second", calls: 1000 } });
});

test("errors both ways", async (t) => {
  const p = await openApp(t, await newContext(t));
  assert.deepEqual(ok(await call(p, "mainThrows"), p), {
    threw: true,
    error: { isError: true, name: "TypeError", message: "main says no", ctor: "TypeError", code: "E_MAIN" },
  });
  const r = await p.page.evaluate(() => window.__sw.callWorker("workerThrows"));
  assert.equal(r.ok, false);
  assert.equal(r.error.name, "RangeError");
  assert.equal(r.error.message, "worker says no");
  assert.equal(r.error.code, "E_WORKER");
});

test("without the serviceWorker option the async transport is still reported", async (t) => {
  const p = await openApp(t, await newContext(t), { sw: "none" });
  const st = await p.page.evaluate(() => ({ transport: window.__sw.transport, controlled: navigator.serviceWorker.controller !== null }));
  assert.deepEqual(st, { transport: "async", controlled: false });
  const r = ok(await call(p, "describe"), p);
  assert.equal(r.transport, "async");
  assert.equal(r.native, false);
  const touch = ok(await call(p, "touchWindow"), p);
  assert.equal(touch.ok, false, "window cannot be used without blocking");
  assert.match(touch.error.message, /serviceWorker/, "the error names the serviceWorker option");
});

test("a worker outside the service worker's scope gets a clear error at once", async (t) => {
  const p = await openApp(t, await newContext(t), { worker: "../outside-worker.js" });
  const v = ok(await call(p, "tryCall"), p);
  assert.equal(v.ok, false);
  assert.match(v.error.message, /the worker-bridge service worker does not control this worker/);
  assert.match(v.error.message, /scope/);
  assert.ok(v.ms < 5_000, `the error came after ${v.ms} ms`);
});

/** Stops every service worker (CDP) and waits until the browser reports them stopped. */
async function stopServiceWorkers(page) {
  const cdp = await page.context().newCDPSession(page);
  const status = new Map();
  const stopped = new Set(); // versions seen "stopped" since the stop command
  let stopSent = false;
  let onUpdate = null;
  cdp.on("ServiceWorker.workerVersionUpdated", ({ versions }) => {
    for (const v of versions) {
      status.set(v.versionId, v.runningStatus);
      if (stopSent && v.runningStatus === "stopped") stopped.add(v.versionId);
    }
    onUpdate?.();
  });
  await cdp.send("ServiceWorker.enable");
  // Every version must have been seen "stopped" once since the stop command.
  // Not "all stopped at once": a worker blocked on the service worker retries
  // its request at once, which starts the service worker again, and under
  // load the "stopped" and "starting" updates can come together.
  stopSent = true;
  for (const [id, s] of status) if (s === "stopped") stopped.add(id);
  const allStopped = () => status.size !== 0 && [...status.keys()].every((id) => stopped.has(id));
  await cdp.send("ServiceWorker.stopAllWorkers");
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service workers not stopped: ${JSON.stringify([...status])}`)), 10_000);
    onUpdate = () => { if (allStopped()) { clearTimeout(timer); resolve(); } };
    onUpdate();
  });
  await cdp.detach();
  return status.size;
}

test("the service worker stopped while idle (as the browser does after 30 s) restarts and calls go on", async (t) => {
  const p = await openApp(t, await newContext(t));
  assert.deepEqual(ok(await call(p, "calls"), p), { add: 42, tag: null });
  assert.ok((await stopServiceWorkers(p.page)) >= 1);
  const v = ok(await call(p, "tryCall"), p);
  assert.equal(v.ok, true, JSON.stringify(v.error));
  assert.equal(v.value, 3);
  assert.deepEqual(ok(await call(p, "loop", 50), p).calls, 50);
});

test("the service worker stopped while a worker is blocked in a call: the call completes", async (t) => {
  const p = await openApp(t, await newContext(t));
  // 3 s: the stop (under load, a second or more) must be over before the page
  // answers, or the answer itself is lost with the stopped service worker,
  // which is the "lost messages" error (tested in sw/state.test.mjs), not this case.
  const pending = call(p, "slow", 3000);
  // The page is serving the call, so the worker has sent its wait; give the
  // request a moment to reach the service worker, where it is parked.
  await pollPage(p.page, p.log, () => window.__sw.slowCalls >= 1, "the worker did not call slow()");
  await new Promise((r) => setTimeout(r, 200));
  assert.ok((await stopServiceWorkers(p.page)) >= 1);
  assert.equal(ok(await pending, p), "slept 3000");
  assert.equal(ok(await call(p, "calls"), p).add, 42);
});

test("unregister() mid-session: the service worker keeps serving the page it controls, calls go on", async (t) => {
  const p = await openApp(t, await newContext(t));
  assert.deepEqual(ok(await call(p, "calls"), p), { add: 42, tag: null });
  await p.page.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration("./");
    await reg.unregister();
  });
  assert.ok((await stopServiceWorkers(p.page)) >= 1);
  const v = ok(await call(p, "tryCall"), p);
  assert.equal(v.ok, true, JSON.stringify(v.error));
  assert.equal(v.value, 3);
});

test("unregister() and the service worker removed while a worker is blocked: the call fails with the clear error, no hang", async (t) => {
  const p = await openApp(t, await newContext(t));
  assert.deepEqual(ok(await call(p, "calls"), p), { add: 42, tag: null });
  const pending = call(p, "slow", 1500);
  await pollPage(p.page, p.log, () => window.__sw.slowCalls >= 1, "the worker did not call slow()");
  // What "Unregister" then "Clear site data" in the browser's tools do: the
  // registration goes, then the running service worker with it.
  const unregistered = await p.page.evaluate(async () => (await navigator.serviceWorker.getRegistration("./")).unregister());
  assert.equal(unregistered, true);
  const cdp = await p.page.context().newCDPSession(p.page);
  await cdp.send("Storage.clearDataForOrigin", { origin: server.url, storageTypes: "service_workers" });
  await cdp.detach();
  // Bounded: the blocked call must end by itself (a hang fails here).
  const r = await Promise.race([
    pending,
    new Promise((resolve) => setTimeout(() => resolve("hang"), 30_000)),
  ]);
  assert.notEqual(r, "hang", `the blocked call did not end\npage log:\n  ${p.log.join("\n  ")}`);
  const text = JSON.stringify(r);
  // The worker's call throws (its wait reaches the network, not the service
  // worker), or the page fails every call (no service worker to answer through).
  assert.equal(r.ok, false, text);
  assert.match(text, /does not control this worker|no active worker-bridge service worker controls this page|was unregistered during this session/, text);
  // The bridge is closed for good: a new call fails at once with the same kind of error.
  const after = await call(p, "calls");
  assert.equal(after.ok, false, JSON.stringify(after));
});

test("the service worker removed mid-session (site data cleared): a clear error within a bounded time", async (t) => {
  const p = await openApp(t, await newContext(t));
  assert.deepEqual(ok(await call(p, "calls"), p), { add: 42, tag: null });
  const cdp = await p.page.context().newCDPSession(p.page);
  await cdp.send("Storage.clearDataForOrigin", { origin: server.url, storageTypes: "service_workers" });
  await cdp.detach();
  const t0 = Date.now();
  const r = await call(p, "tryCall");
  const ms = Date.now() - t0;
  const text = JSON.stringify(r);
  // Either side may notice first: the worker (its request reaches the
  // network, not the service worker) or the page (no service worker to post
  // the reply to); both say what happened.
  assert.match(text, /does not control this worker|no active worker-bridge service worker controls this page/, text);
  assert.ok(ms < 10_000, `the error took ${ms} ms`);
  if (r.ok) assert.equal(r.value.ok, false, text);
});

test("MicroPython (MPWorker) drives the DOM through the service worker (py-editor's case)", async (t) => {
  const ctx = await newContext(t);
  const page = await ctx.newPage();
  const log = [];
  page.on("console", (m) => log.push(`[${m.type()}] ${m.text()}`));
  await page.goto(`${server.url}/tests/e2e/sw/py.html`);
  try {
    await page.waitForFunction(() => window.__py && window.__py.done, null, { timeout: 120_000, polling: 100 });
  } catch (e) {
    throw new Error(`${e.message}\npage log:\n  ${log.join("\n  ")}`);
  }
  const st = await page.evaluate(() => ({ ...window.__py, title: document.title, text: document.getElementById("out").textContent }));
  assert.equal(st.error, null, `${st.error}\npage log:\n  ${log.join("\n  ")}`);
  assert.equal(st.transport, "service-worker");
  assert.equal(st.text, "python says 42");
  assert.equal(st.title, "set from python");
});
