// The per-call JS work of a small sync call without the wake-ups, in one
// thread: encode the request, pass it through a mailbox, decode it, encode
// the reply, pass it back, decode it. bundle-variants.mjs --micro loads this
// file unbundled and bundled each way and times it (CPU-bound, so the
// minimum over trials is a usable figure on a busy machine).
import { encodeMessageView, decodeMessage } from "../../../bridge-js/src/wire.js";
import { Mailbox, channelBytes, toMainOffset, toWorkerOffset } from "../../../bridge-js/src/mailbox.js";

export function run(n) {
  const cap = 4096;
  const sab = new SharedArrayBuffer(channelBytes(cap));
  const toMainTx = new Mailbox(sab, toMainOffset(), cap);
  const toMainRx = new Mailbox(sab, toMainOffset(), cap);
  const toWorkerTx = new Mailbox(sab, toWorkerOffset(cap), cap);
  const toWorkerRx = new Mailbox(sab, toWorkerOffset(cap), cap);
  const op = { t: "call", name: "add", args: [0, 1] };
  const req = { t: "request", seq: 0, nestedIn: 0, target: 0, op, releases: null };
  const rep = { t: "reply", seq: 0, ok: true, value: 0, byRef: false, releases: null };
  let acc = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    req.seq = i + 1;
    op.args[0] = i;
    toMainTx.send(encodeMessageView(req, null));
    const m = decodeMessage(toMainRx.tryRecv(), null);
    rep.seq = m.seq;
    rep.value = m.op.args[0] + m.op.args[1];
    toWorkerTx.send(encodeMessageView(rep, null));
    const r = decodeMessage(toWorkerRx.tryRecv(), null);
    acc += r.value;
  }
  const ms = performance.now() - t0;
  if (acc !== (n * (n - 1)) / 2 + n) throw new Error(`wrong sum ${acc}`);
  return (ms * 1e6) / n; // ns per round
}
