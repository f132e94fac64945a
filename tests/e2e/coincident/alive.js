// A worker of tests/e2e/coincident ?case=compat-throw: while it runs, it says
// so every 20 ms on a BroadcastChannel, with the tag of its URL.
const tag = new URL(location.href).searchParams.get("tag");
const channel = new BroadcastChannel("wb-alive");
channel.postMessage(tag);
setInterval(() => channel.postMessage(tag), 20);
