// Page side of workers/load.js.
import { MIB, bigString, fnv, fnvString, pattern } from "../fixtures.js";

export function setup({ worker }) {
  let count = 0;
  worker.sync.inc = (i) => {
    count++;
    return i + 1;
  };
  worker.sync.count = () => count;
  worker.sync.oddOrUndefined = (i) => (i % 2 ? i : undefined);
  worker.sync.digestBytes = (u8) => ({ type: Object.prototype.toString.call(u8), length: u8.length, hash: fnv(u8) });
  worker.sync.digestString = (s) => ({ length: s.length, hash: fnvString(s) });
  worker.sync.makeBytes = (n, seed) => pattern(n, seed);
  worker.sync.makeString = (n, seed) => bigString(n, seed);
}

export default async function main({ worker, ready }) {
  const workerQuery = new URL(new URLSearchParams(location.search).get("worker"), location.href).searchParams;
  if (workerQuery.get("case") !== "payloadToWorker") return null;
  const size = Number(workerQuery.get("mib") ?? 8) * MIB; // the spec's payload size (per transport)
  await ready;
  const bytes = pattern(size, 5);
  const str = bigString(size / 2, 6);
  const made = await worker.sync.makeBytes(size, 7);
  const expectedMade = pattern(size, 7);
  const madeString = await worker.sync.makeString(size / 2, 8);
  const expectedString = bigString(size / 2, 8);
  return {
    sentBytes: { length: bytes.length, hash: fnv(bytes) },
    seenBytes: await worker.sync.digestBytes(bytes),
    sentString: { length: str.length, hash: fnvString(str) },
    seenString: await worker.sync.digestString(str),
    madeBytes: { type: Object.prototype.toString.call(made), length: made.length, hash: fnv(made) },
    expectedMadeBytes: { length: expectedMade.length, hash: fnv(expectedMade) },
    madeString: { length: madeString.length, hash: fnvString(madeString) },
    expectedString: { length: expectedString.length, hash: fnvString(expectedString) },
  };
}
