// Worker event listeners that call preventDefault()/stopPropagation()
// (workers/events.js, case "listeners"): dispatched synchronously from here.
// Query: `wait`, the eventWait option of the worker that gets the events;
// `slow`, the slow event: "wb-slow" (its listener is busy 300 ms) or
// "wb-late" (its listener holds on until this page's dispatchEvent returned).
const QUERY = new URL(import.meta.url).searchParams;
const WAIT = Number(QUERY.get("wait") ?? 10_000);
const SLOW = QUERY.get("slow") ?? "wb-slow";

export default async function main({ BridgeWorker }) {
  const target = document.getElementById("target");
  const ran = [];
  const w = new BridgeWorker("/tests/e2e/workers/events.js?case=listeners", { type: "module", eventWait: WAIT });
  const armed = new Promise((resolve) => (w.sync.armed = resolve));
  w.sync.ran = (what) => ran.push(what);
  w.sync.ready = () => {};
  // Whether the last dispatchEvent returned (the wb-late listener asks).
  let over = false;
  w.sync.over = () => over;
  const done = new Promise((resolve) => (w.sync.done = resolve));
  await armed;

  const dispatch = (type) => {
    let bubbled = false;
    const onBody = () => { bubbled = true; };
    document.body.addEventListener(type, onBody);
    const ev = new Event(type, { bubbles: true, cancelable: true });
    over = false;
    const notPrevented = target.dispatchEvent(ev);
    over = true;
    document.body.removeEventListener(type, onBody);
    return { notPrevented, defaultPrevented: ev.defaultPrevented, bubbled, ranBeforeReturn: ran.splice(0) };
  };
  // What a listener main did not wait for reports later: wait for that.
  const later = async (r) => {
    const deadline = Date.now() + 30_000;
    while (r.ranBeforeReturn.length === 0 && ran.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    return ran.splice(0);
  };
  const results = { test: dispatch("wb-test") };
  results.testRanLater = await later(results.test);
  // Past the bound: dispatchEvent returns first, the listener still runs.
  results.slow = dispatch(SLOW);
  results.slowRanLater = await later(results.slow);
  // The worker dispatches an event its own listener prevents (nested).
  results.nested = await w.sync.nested();
  await done;
  w.terminate();
  return results;
}
