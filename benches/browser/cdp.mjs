// A Chrome DevTools Protocol client over the browser's WebSocket, with
// flat sessions: send(method, params, sessionId) resolves with the result,
// on(listener) gets every event (workers come through auto-attach on their
// page's session). Used by profile-m2w.mjs, cdp-profile.mjs and
// coverage-worker.mjs.
import WebSocket from "ws";
import { chromium } from "playwright-core";

// Chromium with its DevTools port open; `wsUrl` is the browser's endpoint.
export async function launchDebuggable() {
  const port = 9300 + Math.floor(Math.random() * 500);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", `--remote-debugging-port=${port}`],
  });
  return { browser, wsUrl: async () => (await (await fetch(`http://127.0.0.1:${port}/json/version`)).json()).webSocketDebuggerUrl };
}

// The bench page terminates its workers when a case ends: held back (on
// this page) until `window.__endHeld()`, so their profile or coverage can be
// taken first.
export const holdTerminate = (page) => page.addInitScript(() => {
  const terminate = Worker.prototype.terminate;
  const held = [];
  Worker.prototype.terminate = function () { held.push(this); };
  window.__endHeld = () => { for (const w of held.splice(0)) terminate.call(w); };
});

export function cdp(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
  let id = 0;
  const calls = new Map();
  const listeners = [];
  ws.on("message", (raw) => {
    const m = JSON.parse(raw.toString());
    if (m.id !== undefined) {
      const c = calls.get(m.id);
      calls.delete(m.id);
      if (m.error) c.no(new Error(`${c.method}: ${m.error.message}`));
      else c.ok(m.result);
    } else for (const l of listeners) l(m);
  });
  return {
    open: new Promise((ok, no) => { ws.once("open", ok); ws.once("error", no); }),
    send(method, params = {}, sessionId) {
      const i = ++id;
      ws.send(JSON.stringify({ id: i, method, params, sessionId }));
      return new Promise((ok, no) => calls.set(i, { ok, no, method }));
    },
    on: (l) => listeners.push(l),
    close: () => ws.close(),
  };
}

/**
 * Attaches to the benchmark page (`benches/browser/index.html`) and to every
 * worker it starts from then on, each paused before its first instruction:
 * `onWorker(sessionId)` sets the worker's session up (a profiler, coverage),
 * then the worker runs. `on` is the client's message hook (`cdp(url).on`).
 * Returns the page's session id.
 */
export async function attachPageAndWorkers({ send, on }, onWorker) {
  const { targetInfos } = await send("Target.getTargets");
  const pt = targetInfos.find((t) => t.type === "page" && t.url.includes("/benches/browser/index.html"));
  const { sessionId: pageS } = await send("Target.attachToTarget", { targetId: pt.targetId, flatten: true });
  on(async (m) => {
    if (m.method !== "Target.attachedToTarget" || m.params.targetInfo.type !== "worker") return;
    const s = m.params.sessionId;
    await onWorker(s);
    await send("Runtime.runIfWaitingForDebugger", {}, s);
  });
  await send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: true, flatten: true }, pageS);
  return pageS;
}
