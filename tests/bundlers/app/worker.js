import { bridge } from "worker-bridge/worker";

const { sync, window, transport, native } = await bridge();
sync.twice = (x) => x * 2;

const sum = sync.add(2, 3); // a synchronous call into the page
const { document } = window;
const title = document.title; // and the page's DOM
const p = document.createElement("p");
p.id = "from-worker";
p.textContent = `made in a worker, ${sum}`;
document.body.append(p);
sync.done({ transport, native, sum, title, href: window.location.href });
