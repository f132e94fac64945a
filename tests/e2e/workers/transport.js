// What a worker sees of the transport; on a page without COOP/COEP and without
// a service worker the bridge is "async" and touching `window` must say why.
import { runCases } from "./common.js";
import { errorInfo } from "/tests/e2e/pages/describe.js";

runCases({
  describe({ transport, native }) {
    return { transport, native, crossOriginIsolated: self.crossOriginIsolated, hasSAB: typeof SharedArrayBuffer };
  },

  async asyncTouch(b) {
    const o = {
      transport: b.transport,
      native: b.native,
      crossOriginIsolated: self.crossOriginIsolated,
    };
    try {
      o.documentType = typeof b.window.document;
      o.windowThrew = false;
    } catch (e) {
      o.windowThrew = true;
      o.windowError = errorInfo(e);
    }
    // No blocking here: a call into main returns a Promise instead.
    try {
      const r = b.sync.log("a call on the async transport", "second part");
      o.syncReturnedPromise = r instanceof Promise;
      o.syncResult = await r;
    } catch (e) {
      o.syncError = errorInfo(e);
    }
    return o;
  },
});
