// Floor of the service-worker path, worker side (see ../xhr-sw.js): post the
// request to the page, then block in a synchronous XHR until the service
// worker answers with the page's result.
import { boot } from "../common.worker.js";

const WAIT = new URL("../__xhr-floor__/wait", import.meta.url).href;
function call(op, a, b) {
  self.postMessage([op, a, b]);
  const x = new XMLHttpRequest();
  x.open("GET", WAIT, false);
  x.send();
  if (x.status !== 200) throw new Error(`floor (SW): wait answered ${x.status}`);
  return JSON.parse(x.responseText);
}

boot(async () => ({ kind: "sync", add: (a, b) => call("add", a, b) }));
