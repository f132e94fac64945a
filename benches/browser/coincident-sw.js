// coincident 4.1.1's service worker (dist/sw.js), loaded from this folder so
// its scope covers the benchmark page.
importScripts("/node_modules/coincident/dist/sw.js");
