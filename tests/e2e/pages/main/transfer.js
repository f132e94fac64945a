// Page side of workers/transfer.js.
import { transfer } from "/bridge-js/src/main.js";
import { pattern, makeBuffer, intact } from "/tests/e2e/pages/pattern.js";

const TAG = "worker-bridge";
// Messages that carried moved buffers (postMessage with a transfer list), per direction.
const moves = { toMain: 0, toWorker: 0 };
const carries = (m) => m !== null && typeof m === "object" && m[TAG] === "m" && Array.isArray(m.x) && m.x.length > 0;

function instrument(w) {
  w.addEventListener("message", (e) => {
    if (carries(e.data)) moves.toMain++;
  });
  const post = w.postMessage.bind(w);
  w.postMessage = (m, t) => {
    if (carries(m)) moves.toWorker++;
    return post(m, t);
  };
}

export function setup({ worker }) {
  // Bridge messages travel on the bridge's own MessageChannel (main's end:
  // `_port`), not on the Worker's message stream.
  instrument(worker._port);
  worker.sync.moves = () => ({ ...moves });
  worker.sync.take = (name, buf, seed) => ({
    isBuffer: buf instanceof ArrayBuffer,
    length: buf.byteLength,
    intact: intact(buf, seed),
  });
  worker.sync.takeNested = (v) => {
    const view = v.deep.list[0];
    return {
      a: v.deep.a.byteLength,
      aIntact: intact(v.deep.a, 3),
      bIntact: intact(v.b, 4),
      sameB: v.again === v.b,
      view: {
        kind: view.constructor.name,
        offset: view.byteOffset,
        length: view.length,
        overA: view.buffer === v.deep.a,
        // the view's bytes are bytes 64.. of the worker's buffer `a`
        intact: new Uint8Array(view.buffer, view.byteOffset, view.byteLength).every((x, i) => x === pattern(64 + i, 3)),
      },
    };
  };
  const given = [];
  worker.sync.give = (n, seed) => {
    const b = makeBuffer(n, seed);
    given.push(b);
    return transfer(b);
  };
  worker.sync.givenLengths = () => given.map((b) => b.byteLength);
}

export default async function main({ worker, ready }) {
  await ready;
  const params = new URLSearchParams(location.search);
  const workerCase = new URL(params.get("worker"), location.href).searchParams.get("case");
  if (workerCase !== "toWorker") return null;
  const out = {};
  for (const n of [1 << 20, 8 << 20]) {
    const buf = makeBuffer(n, 5);
    out[`buffer ${n}`] = { got: await worker.sync.receive(transfer(buf), 5), after: buf.byteLength };
  }
  const big = makeBuffer(1 << 16, 9);
  const view = new Int32Array(big, 4, 100);
  out.view = { got: await worker.sync.receive(transfer(view), 9, 4), after: big.byteLength };
  out.moves = { ...moves };
  await worker.sync.finish();
  return out;
}
