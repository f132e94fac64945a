// A click on the page delivered to a listener that lives in the worker.
import { runCases } from "./common.js";

// Busy for `ms` without returning to the event loop.
function busy(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

runCases({
  // Listeners that act on the event (pages/main/events.js dispatches them):
  // preventDefault/stopPropagation take effect while main waits (eventWait).
  listeners({ window, sync }) {
    const target = window.document.getElementById("target");
    target.addEventListener("wb-test", (event) => {
      event.preventDefault();
      event.stopPropagation();
      sync.ran(`listener ${event.type}`);
    });
    target.addEventListener("wb-slow", (event) => {
      busy(300); // longer than main waits: the event goes on without it
      // eventPhase 0 (NONE): the dispatch is over; 2 (AT_TARGET): main waited.
      sync.ran(`slow listener ${event.type} eventPhase=${event.eventPhase}`);
    });
    target.addEventListener("wb-late", (event) => {
      // Holds on until the page's dispatchEvent returned: main stopped
      // waiting for this listener (past eventWait) however long that took,
      // an order, not a time. The pause between asks leaves main's wait a
      // moment without a request, when it looks at its deadline. The
      // give-up only turns a main that never stops waiting into a failed
      // test (over=false) instead of a hung one.
      const giveUp = performance.now() + 20_000;
      let over = false;
      while (!(over = sync.over()) && performance.now() < giveUp) busy(1);
      sync.ran(`late listener ${event.type} over=${over} eventPhase=${event.eventPhase}`);
    });
    target.addEventListener("wb-nested", (event) => {
      event.preventDefault();
    });
    sync.armed();
    return new Promise((resolve) => {
      sync.nested = () => {
        // The worker dispatches on the page; its own listener runs nested
        // in that blocked call and prevents the default.
        const ev = new window.Event("wb-nested", { cancelable: true });
        const notPrevented = target.dispatchEvent(ev);
        const result = { notPrevented, defaultPrevented: ev.defaultPrevented };
        resolve(result);
        return result;
      };
    });
  },

  click({ window, sync }) {
    return new Promise((resolve) => {
      window.addEventListener("click", (event) => {
        resolve({
          type: event.type,
          isTrusted: event.isTrusted,
          targetId: event.target.id,
          button: event.button,
          clientXType: typeof event.clientX,
          targetIsTheButton: event.target === window.document.getElementById("target"),
        });
      });
      sync.armed();
    });
  },
});
