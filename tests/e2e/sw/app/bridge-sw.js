// A site's own (module) service worker with the worker-bridge listeners
// merged in: the "merged" deployment of docs/service-worker.md.
import { installBridgeServiceWorker } from "/bridge-js/src/sw.js";

installBridgeServiceWorker(self);

// The site's own listeners keep working beside the bridge's.
self.addEventListener("fetch", (e) => {
  if (new URL(e.request.url).pathname.endsWith("/site-own-route")) {
    e.respondWith(new Response("answered by the site's own listener", { headers: { "content-type": "text/plain" } }));
  }
});
