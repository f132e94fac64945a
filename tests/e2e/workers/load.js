// Many calls and big payloads. The page side is pages/main/load.js. The
// query sets the counts (the spec picks them per transport): `n` calls,
// `undefinedN` calls that alternate undefined results, `mib` MiB payloads.
import { runCases, params } from "./common.js";
import { MIB, bigString, fnv, fnvString, pattern } from "/tests/e2e/pages/fixtures.js";

runCases(
  {
    calls({ sync }) {
      const N = Number(params.get("n") ?? 100_000);
      let wrong = 0;
      let firstWrong = null;
      let sum = 0;
      const t0 = performance.now();
      for (let i = 0; i < N; i++) {
        const r = sync.inc(i);
        if (r !== i + 1) {
          wrong++;
          firstWrong ??= { i, got: String(r) };
        }
        sum += r;
      }
      const ms = performance.now() - t0;
      // Results that are `undefined` every other call must never be confused
      // with "no reply yet" (coincident#26).
      let undefinedWrong = 0;
      const U = Number(params.get("undefinedN") ?? 10_000);
      for (let i = 0; i < U; i++) {
        const r = sync.oddOrUndefined(i);
        if (r !== (i % 2 ? i : undefined)) undefinedWrong++;
      }
      return { N, U, wrong, firstWrong, sum, ms, mainCount: sync.count(), undefinedWrong };
    },

    payloadToMain({ sync }) {
      const size = Number(params.get("mib") ?? 8) * MIB;
      const bytes = pattern(size, 1);
      const sentBytes = { length: bytes.length, hash: fnv(bytes) };
      const seenBytes = sync.digestBytes(bytes);
      const str = bigString(size / 2, 3); // `mib` MiB of UTF-16
      const sentString = { length: str.length, hash: fnvString(str) };
      const seenString = sync.digestString(str);
      const t0 = performance.now();
      const made = sync.makeBytes(size, 2);
      const msMake = performance.now() - t0;
      const expectedMade = pattern(size, 2);
      const madeString = sync.makeString(size / 2, 4);
      const expectedString = bigString(size / 2, 4);
      return {
        sentBytes,
        seenBytes,
        sentString,
        seenString,
        madeBytes: { type: Object.prototype.toString.call(made), length: made.length, hash: fnv(made) },
        expectedMadeBytes: { length: expectedMade.length, hash: fnv(expectedMade) },
        madeString: { length: madeString.length, hash: fnvString(madeString) },
        expectedString: { length: expectedString.length, hash: fnvString(expectedString) },
        msMake,
      };
    },

    async payloadToWorker() {
      return { served: true };
    },
  },
  {
    expose(b) {
      b.sync.digestBytes = (u8) => ({ type: Object.prototype.toString.call(u8), length: u8.length, hash: fnv(u8) });
      b.sync.digestString = (s) => ({ length: s.length, hash: fnvString(s) });
      b.sync.makeBytes = (n, seed) => pattern(n, seed);
      b.sync.makeString = (n, seed) => bigString(n, seed);
    },
  },
);
