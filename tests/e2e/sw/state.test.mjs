// The service worker's state machine (bridge-js/src/sw.js) driven directly in
// Node: session isolation, acknowledgement and re-sending, lost messages,
// unknown sessions, pages that are gone. The browser side is sw.test.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BridgeServiceWorkerState, SW_TAG, SW_HEADER, WAIT_PATH } from "../../../bridge-js/src/sw.js";

const ORIGIN = "http://127.0.0.1:1";
const PAGE_A = { id: "page-a", type: "window" };
const PAGE_B = { id: "page-b", type: "window" };
const TOK_A = "a".repeat(32);
const TOK_B = "b".repeat(32);
const CH1 = "1".repeat(16);
const CH2 = "2".repeat(16);

function waitReq(token, channel, after, wait = 0, mode = "same-origin") {
  return { url: `${ORIGIN}/app/${WAIT_PATH}?token=${token}&channel=${channel}&after=${after}&wait=${wait}`, mode, method: "GET" };
}
async function frames(res) {
  assert.equal(res.headers.get(SW_HEADER), "1");
  const out = [];
  if (res.status !== 200) return { status: res.status, text: await res.text(), out };
  const b = new Uint8Array(await res.arrayBuffer());
  const v = new DataView(b.buffer);
  for (let i = 0; i < b.length;) {
    const n = v.getUint32(i, true);
    const len = v.getUint32(i + 4, true);
    out.push([n, [...b.subarray(i + 8, i + 8 + len)]]);
    i += 8 + len;
  }
  return { status: 200, out };
}
const msg = (token, channel, n, bytes) => ({ [SW_TAG]: "msg", token, channel, n, bytes: new Uint8Array(bytes) });

test("messages are answered per token and channel, kept until acknowledged", async () => {
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 0 });
  s.onMessage({ [SW_TAG]: "announce", token: TOK_A, channel: CH1, sent: 0 }, PAGE_A);
  s.onMessage({ [SW_TAG]: "announce", token: TOK_B, channel: CH1, sent: 0 }, PAGE_B);
  s.onMessage(msg(TOK_A, CH1, 1, [1, 1]), PAGE_A);
  s.onMessage(msg(TOK_A, CH2, 1, [2]), PAGE_A);
  s.onMessage(msg(TOK_B, CH1, 1, [3]), PAGE_B);
  assert.deepEqual((await frames(await s.handleFetch(waitReq(TOK_A, CH1, 0), ORIGIN))).out, [[1, [1, 1]]]);
  assert.deepEqual((await frames(await s.handleFetch(waitReq(TOK_A, CH2, 0), ORIGIN))).out, [[1, [2]]]);
  assert.deepEqual((await frames(await s.handleFetch(waitReq(TOK_B, CH1, 0), ORIGIN))).out, [[1, [3]]]);
  // Not acknowledged yet: sent again; acknowledged: gone.
  assert.deepEqual((await frames(await s.handleFetch(waitReq(TOK_A, CH1, 0), ORIGIN))).out, [[1, [1, 1]]]);
  assert.equal((await frames(await s.handleFetch(waitReq(TOK_A, CH1, 1), ORIGIN))).status, 204);
});

test("a parked wait is answered by the next message", async () => {
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 0 });
  s.onMessage({ [SW_TAG]: "announce", token: TOK_A, channel: CH1, sent: 0 }, PAGE_A);
  const parked = s.handleFetch(waitReq(TOK_A, CH1, 0, 5000), ORIGIN);
  let settled = false;
  parked.then(() => { settled = true; });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(settled, false, "parks while there is nothing");
  s.onMessage(msg(TOK_A, CH1, 1, [9]), PAGE_A);
  assert.deepEqual((await frames(await parked)).out, [[1, [9]]]);
});

test("a parked wait times out with 204", async () => {
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 0, parkMs: 30 });
  s.onMessage({ [SW_TAG]: "announce", token: TOK_A, channel: CH1, sent: 0 }, PAGE_A);
  const t0 = Date.now();
  assert.equal((await frames(await s.handleFetch(waitReq(TOK_A, CH1, 0, 5000), ORIGIN))).status, 204);
  assert.ok(Date.now() - t0 < 2000);
});

test("an unknown token is refused (409); a worker cannot announce one", async () => {
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 0 });
  s.onMessage({ [SW_TAG]: "announce", token: TOK_A, channel: CH1, sent: 0 }, { id: "w", type: "worker" });
  const r = await frames(await s.handleFetch(waitReq(TOK_A, CH1, 0), ORIGIN));
  assert.equal(r.status, 409);
  assert.match(r.text, /does not know the session token/);
});

test("an unknown token is held until the page announces it", async () => {
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 2000 });
  const held = s.handleFetch(waitReq(TOK_A, CH1, 0, 5000), ORIGIN);
  await new Promise((r) => setTimeout(r, 20));
  s.onMessage(msg(TOK_A, CH1, 1, [5]), PAGE_A);
  assert.deepEqual((await frames(await held)).out, [[1, [5]]]);
});

test("messages lost by a restart are an error (410), not a hang", async () => {
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 0 });
  // A fresh service worker; the page says it had sent 3 messages on the channel.
  s.onMessage({ [SW_TAG]: "announce", token: TOK_A, channel: CH1, sent: 3 }, PAGE_A);
  const r = await frames(await s.handleFetch(waitReq(TOK_A, CH1, 2, 5000), ORIGIN));
  assert.equal(r.status, 410);
  assert.match(r.text, /1 message\(s\) from the main thread were lost/);
  // The worker that had everything just waits.
  assert.equal((await frames(await s.handleFetch(waitReq(TOK_A, CH1, 3, 0), ORIGIN))).status, 204);
});

test("closing a channel answers its parked wait with the reason", async () => {
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 0 });
  s.onMessage({ [SW_TAG]: "announce", token: TOK_A, channel: CH1, sent: 0 }, PAGE_A);
  const parked = s.handleFetch(waitReq(TOK_A, CH1, 0, 5000), ORIGIN);
  s.onMessage({ [SW_TAG]: "close", token: TOK_A, channel: CH1, reason: "it was unregistered" }, PAGE_A);
  const r = await frames(await parked);
  assert.equal(r.status, 410);
  assert.equal(r.text, "worker-bridge: it was unregistered");
});

test("sessions of pages that are gone are dropped", async () => {
  const alive = new Set(["page-a", "page-b"]);
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 0, clientAlive: async (id) => alive.has(id) });
  s.onMessage({ [SW_TAG]: "announce", token: TOK_A, channel: CH1, sent: 0 }, PAGE_A);
  s.onMessage({ [SW_TAG]: "announce", token: TOK_B, channel: CH1, sent: 0 }, PAGE_B);
  alive.delete("page-a");
  await s.sweep();
  assert.deepEqual([...s.sessions.keys()], [TOK_B]);
  assert.equal((await frames(await s.handleFetch(waitReq(TOK_A, CH1, 0), ORIGIN))).status, 409);
});

test("other URLs, other origins and navigations are not answered", () => {
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 0 });
  assert.equal(s.handleFetch({ url: `${ORIGIN}/app/page.html`, mode: "cors", method: "GET" }, ORIGIN), null);
  assert.equal(s.handleFetch(waitReq(TOK_A, CH1, 0, 0, "navigate"), ORIGIN), null);
  assert.equal(s.handleFetch({ url: `http://evil.example/app/${WAIT_PATH}?token=${TOK_A}`, mode: "cors", method: "GET" }, ORIGIN), null);
});

test("malformed waits are refused with 400", async () => {
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 0 });
  const r = await frames(await s.handleFetch({ url: `${ORIGIN}/app/${WAIT_PATH}?token=x&channel=y&after=0&wait=0`, mode: "cors", method: "GET" }, ORIGIN));
  assert.equal(r.status, 400);
});

// --- Limits (issue: a service worker that cannot be filled) ---

test("only GET waits are answered: POST, PUT and the rest fall through", () => {
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 0 });
  s.onMessage({ [SW_TAG]: "announce", token: TOK_A, channel: CH1, sent: 0 }, PAGE_A);
  for (const method of ["POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]) {
    assert.equal(s.handleFetch({ ...waitReq(TOK_A, CH1, 0), method }, ORIGIN), null, method);
  }
  assert.notEqual(s.handleFetch(waitReq(TOK_A, CH1, 0), ORIGIN), null, "GET is answered");
});

test("a held wait with an unknown token leaves nothing behind when its hold ends", async () => {
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 5 });
  const forged = [];
  for (let i = 0; i < 20; i++) {
    const tok = i.toString(16).padStart(32, "f");
    forged.push(s.handleFetch(waitReq(tok, CH1, 0, 0), ORIGIN));
  }
  for (const r of await Promise.all(forged)) assert.equal(r.status, 409);
  assert.equal(s.unknownWaits.size, 0, "no entry per forged token");
  assert.equal(s.unknownWaitCount, 0);
});

test("waits for unknown tokens are bounded: past the bound they are refused at once", async () => {
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 60_000, maxUnknownWaits: 8 });
  const tok = (i) => i.toString(16).padStart(32, "e");
  const held = [];
  let settled = 0;
  for (let i = 0; i < 8; i++) held.push(s.handleFetch(waitReq(tok(i), CH1, 0, 0), ORIGIN).finally(() => settled++));
  assert.equal(s.unknownWaitCount, 8);
  const r = await frames(await s.handleFetch(waitReq("d".repeat(32), CH1, 0, 0), ORIGIN));
  assert.equal(r.status, 409);
  assert.match(r.text, /8 waits for unannounced sessions are held already/);
  assert.equal(settled, 0, "refused while the eight are still held: it was never held itself");
  assert.equal(s.unknownWaitCount, 8);
  // The held ones still work when their pages announce.
  for (let i = 0; i < 8; i++) s.onMessage(msg(tok(i), CH1, 1, [i]), { id: `page-${i}`, type: "window" });
  for (let i = 0; i < 8; i++) assert.deepEqual((await frames(await held[i])).out, [[1, [i]]]);
  assert.equal(s.unknownWaitCount, 0);
  assert.equal(s.unknownWaits.size, 0);
});

test("one page cannot open unbounded sessions: its oldest are dropped, with the reason", async () => {
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 0, maxSessionsPerPage: 4 });
  const toks = [];
  for (let i = 0; i < 2000; i++) {
    const tok = i.toString(16).padStart(32, "c");
    toks.push(tok);
    s.onMessage({ [SW_TAG]: "announce", token: tok, channel: CH1, sent: 0 }, PAGE_A);
  }
  s.onMessage({ [SW_TAG]: "announce", token: TOK_B, channel: CH1, sent: 0 }, PAGE_B);
  assert.equal(s.sessions.size, 5, "four of page A's, one of page B's");
  assert.deepEqual([...s.sessions.keys()].slice(0, 4), toks.slice(-4), "the newest four of page A stay");
  assert.ok(s.sessions.has(TOK_B), "another page is not touched");
  // A dropped session's worker is told why instead of waiting.
  const r = await frames(await s.handleFetch(waitReq(toks[0], CH1, 0, 0), ORIGIN));
  assert.equal(r.status, 409);
});

test("a dropped session answers its parked wait with the reason", async () => {
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 0, maxSessionsPerPage: 1 });
  s.onMessage({ [SW_TAG]: "announce", token: TOK_A, channel: CH1, sent: 0 }, PAGE_A);
  const parked = s.handleFetch(waitReq(TOK_A, CH1, 0, 5000), ORIGIN);
  s.onMessage({ [SW_TAG]: "announce", token: TOK_B, channel: CH1, sent: 0 }, PAGE_A);
  const r = await frames(await parked);
  assert.equal(r.status, 410);
  assert.match(r.text, /more than 1 bridge sessions/);
});

test("sessions over all pages are bounded, least recently used first", () => {
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 0, maxSessions: 3 });
  const tok = (i) => i.toString(16).padStart(32, "b");
  for (let i = 0; i < 3; i++) s.onMessage({ [SW_TAG]: "announce", token: tok(i), channel: CH1, sent: 0 }, { id: `p${i}`, type: "window" });
  // Session 0 is used again, so session 1 is now the least recently used.
  s.onMessage({ [SW_TAG]: "announce", token: tok(0), channel: CH1, sent: 0 }, { id: "p0", type: "window" });
  s.onMessage({ [SW_TAG]: "announce", token: tok(3), channel: CH1, sent: 0 }, { id: "p3", type: "window" });
  assert.deepEqual(new Set(s.sessions.keys()), new Set([tok(0), tok(2), tok(3)]));
});

test("channels of a session are bounded: closed ones go first", () => {
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 0, maxChannels: 3 });
  const ch = (i) => i.toString(16).padStart(16, "a");
  for (let i = 0; i < 3; i++) s.onMessage({ [SW_TAG]: "announce", token: TOK_A, channel: ch(i), sent: 0 }, PAGE_A);
  s.onMessage({ [SW_TAG]: "close", token: TOK_A, channel: ch(1) }, PAGE_A);
  s.onMessage({ [SW_TAG]: "announce", token: TOK_A, channel: ch(3), sent: 0 }, PAGE_A);
  assert.deepEqual(new Set(s.sessions.get(TOK_A).channels.keys()), new Set([ch(0), ch(2), ch(3)]));
  for (let i = 4; i < 200; i++) s.onMessage({ [SW_TAG]: "announce", token: TOK_A, channel: ch(i), sent: 0 }, PAGE_A);
  assert.equal(s.sessions.get(TOK_A).channels.size, 3);
});

test("a new session sweeps at once: a reloaded page's session does not linger", async () => {
  const alive = new Set(["page-a"]);
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 0, clientAlive: async (id) => alive.has(id) });
  s.onMessage({ [SW_TAG]: "announce", token: TOK_A, channel: CH1, sent: 0 }, PAGE_A);
  await s.sweeping;
  // The page reloads: its old client is gone, the new load announces a new session.
  alive.delete("page-a");
  alive.add("page-a2");
  s.onMessage({ [SW_TAG]: "announce", token: TOK_B, channel: CH1, sent: 0 }, { id: "page-a2", type: "window" });
  await s.sweeping;
  assert.deepEqual([...s.sessions.keys()], [TOK_B], "the old session went with the new one's arrival, not 10 s later");
});

test("a page that goes away says bye: its session is dropped", () => {
  const s = new BridgeServiceWorkerState({ keepAliveMs: 10, unknownHoldMs: 0 });
  s.onMessage({ [SW_TAG]: "announce", token: TOK_A, channel: CH1, sent: 0 }, PAGE_A);
  s.onMessage({ [SW_TAG]: "bye", token: TOK_A }, PAGE_A);
  assert.equal(s.sessions.size, 0);
});
