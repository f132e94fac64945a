// The receive side of a small message, alone on one thread: send a frame
// into a Mailbox, tryRecv it, decode it (no second thread, no wake-ups).
// `node bridge-js/test/bench-recv.mjs [srcDirA srcDirB ...]` times each
// copy of bridge-js/src given (default: this one), interleaved round by
// round, and prints ns per message, best and median of the rounds.
// Information, not a test (shared machines are noisy: compare one run).
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const dirs = process.argv.slice(2);
if (dirs.length === 0) dirs.push(new URL("../src/", import.meta.url).pathname);
const libs = [];
for (const d of dirs) {
  const base = pathToFileURL(resolve(d) + "/").href;
  const { Mailbox, channelBytes } = await import(base + "mailbox.js");
  const { encodeMessage, decodeMessage } = await import(base + "wire.js");
  libs.push({ d, Mailbox, channelBytes, encodeMessage, decodeMessage });
}

const refs = { exportValue: () => ({ kind: 0, id: 1 }), importRemote: () => null, importLocal: () => null };
const shapes = [
  ["reply 42", { t: "reply", seq: 7, ok: true, value: 42, releases: [] }],
  ["call inc(7)", { t: "request", seq: 7, nestedIn: 0, target: 0, op: { t: "call", name: "inc", args: [7] }, releases: [] }],
  ["reply 'title'", { t: "reply", seq: 7, ok: true, value: "Worker bridge demo", releases: [] }],
  ["reply 1000 B array", { t: "reply", seq: 7, ok: true, value: new Uint8Array(1000), releases: [] }],
];
const N = 100_000;
const ROUNDS = 9;

function time(lib, msg) {
  const cap = 1 << 16;
  const sab = new SharedArrayBuffer(lib.channelBytes(cap));
  const box = new lib.Mailbox(sab, 0, cap);
  const bytes = lib.encodeMessage(msg, refs);
  box.running(); // says it polls: a send does not notify
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    box.send(bytes); // one frame: the slot is free
    const m = lib.decodeMessage(box.tryRecv(), refs);
    sink += m.seq;
  }
  const ns = ((performance.now() - t0) * 1e6) / N;
  if (sink !== 7 * N) throw new Error("wrong decode");
  return ns;
}

for (const [name, msg] of shapes) {
  const runs = libs.map(() => []);
  for (let r = 0; r < ROUNDS; r++) libs.forEach((lib, i) => runs[i].push(time(lib, msg)));
  console.log(name);
  libs.forEach((lib, i) => {
    const s = runs[i].sort((a, b) => a - b);
    console.log(`  ${lib.d.padEnd(60)} best ${s[0].toFixed(1)} ns  median ${s[ROUNDS >> 1].toFixed(1)} ns`);
  });
}
