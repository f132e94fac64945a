// A click on the page delivered to a listener that lives in the worker.
import { runCases } from "./common.js";

runCases({
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
