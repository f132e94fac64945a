// Shared by the e2e worker scripts: start the bridge, run the case named in the
// script's query (`?case=...`), and hand the result to the page.
import { bridge } from "/bridge-js/src/worker.js";
import { errorInfo } from "/tests/e2e/pages/describe.js";

export const params = new URL(self.location.href).searchParams;

/**
 * `cases`: { name: (b) => observations } (may be async).
 * `expose(b)`: registers functions the page calls (main -> worker) before the
 * worker tells the page it is ready.
 */
export async function runCases(cases, { expose } = {}) {
  const name = params.get("case");
  const pull = params.has("pull");
  let b;
  try {
    b = await bridge();
  } catch (e) {
    // Nothing can reach the page without a bridge; the console is all there is.
    console.error(`worker: bridge() failed: ${e && e.stack ? e.stack : e}`);
    throw e;
  }
  let resolveResult;
  const result = new Promise((r) => (resolveResult = r));
  b.sync.result = () => result; // the page pulls this on the async transport
  expose?.(b);
  let obs;
  try {
    if (!pull) b.sync.ready();
    if (!Object.hasOwn(cases, name)) {
      throw new Error(`no case "${name}" in ${self.location.pathname}; cases: ${Object.keys(cases).join(", ")}`);
    }
    obs = { ok: true, value: await cases[name](b) };
  } catch (e) {
    obs = { ok: false, error: errorInfo(e) };
  }
  resolveResult(obs);
  if (!pull) b.sync.done(obs);
}
