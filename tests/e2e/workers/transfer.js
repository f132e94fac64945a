// transfer(): ArrayBuffers that move between the worker and the page. The
// page side is pages/main/transfer.js; the spec is tests/e2e/transfer.test.mjs.
import { runCases } from "./common.js";
import { transfer as transferExport } from "/bridge-js/src/worker.js";
import { pattern, makeBuffer, intact, caught } from "/tests/e2e/pages/pattern.js";

let finish;
const finished = new Promise((r) => (finish = r));

runCases(
  {
    // worker -> main: sync calls whose arguments move.
    toMain({ sync, transfer, transport }) {
      const out = { transport, sameTransfer: transfer === transferExport };
      for (const n of [1 << 20, 8 << 20]) {
        const buf = makeBuffer(n, n & 0xff);
        const got = sync.take(`buffer ${n}`, transfer(buf), n & 0xff);
        out[`buffer ${n}`] = { got, after: buf.byteLength };
      }
      const a = makeBuffer(4096, 3);
      const b = makeBuffer(512, 4);
      const nested = { deep: { list: [new Float32Array(a, 64, 16)], a }, b, again: b };
      out.nested = { got: sync.takeNested(transfer(nested, [a, b])), after: [a.byteLength, b.byteLength] };
      // main's result marked with transfer(): copied into the blocked worker, detached on main.
      const given = sync.give(2 << 20, 7);
      out.given = { isBuffer: given instanceof ArrayBuffer, length: given.byteLength, intact: intact(given, 7) };
      out.givenOnMain = sync.givenLengths();
      const c = makeBuffer(16, 1);
      out.errors = {
        twiceInList: caught(() => transfer(c, [c, c])),
        notTransferable: caught(() => transfer({}, [new MessageChannel().port1])),
        twiceInMessage: caught(() => sync.take("twice", transfer({ c }, [c]), 1, transfer({ c2: c }, [c]))),
        untouched: c.byteLength,
      };
      out.errors.sentOnce = sync.take("once", transfer(c), 1);
      out.errors.again = caught(() => transfer(c));
      out.moves = sync.moves();
      return out;
    },

    // main -> worker: async calls whose arguments move; the page reports.
    async toWorker() {
      await finished;
      return "done";
    },
  },
  {
    expose({ sync }) {
      // `offset`: where the view started in the sender's buffer. A moved view
      // arrives over the whole moved buffer; a copied one (service-worker
      // transport) over a fresh buffer of just its bytes.
      sync.receive = (v, seed, offset = 0) => {
        const buf = v instanceof ArrayBuffer ? v : v.buffer;
        const bytes = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        return {
          kind: v.constructor.name,
          length: v.byteLength,
          bufferLength: buf.byteLength,
          byteOffset: v instanceof ArrayBuffer ? 0 : v.byteOffset,
          intact: bytes.every((x, i) => x === pattern(offset + i, seed)),
        };
      };
      sync.finish = () => {
        finish();
        return true;
      };
    },
  },
);
