// The floor of the service-worker path (the `sw` case's "floor: sync XHR via
// service worker"): a worker blocks in a synchronous XMLHttpRequest that this
// service worker holds until the page posts the answer. No protocol, no
// sessions, one worker per page: the least any design built on a blocking
// XHR through a service worker can cost.
let waiter = null;
let queued = [];
self.addEventListener("install", (e) => e.waitUntil(self.skipWaiting()));
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
self.addEventListener("message", (e) => {
  if (waiter !== null) {
    const w = waiter;
    waiter = null;
    w(new Response(e.data));
  } else {
    queued.push(e.data);
  }
});
self.addEventListener("fetch", (e) => {
  if (!new URL(e.request.url).pathname.endsWith("/__xhr-floor__/wait")) return;
  if (queued.length) e.respondWith(new Response(queued.shift()));
  else e.respondWith(new Promise((r) => (waiter = r)));
});
