// Pattern-filled ArrayBuffers for the transfer() tests, shared by the Node
// tier (bridge-js/test/fixtures/transfer-worker.js) and the Chromium spec
// (tests/e2e/workers/transfer.js, pages/main/transfer.js). Byte i depends on
// a seed, so a stale or swapped buffer shows.

export const pattern = (i, seed) => (i * 31 + seed) & 0xff;

export function makeBuffer(n, seed) {
  const u = new Uint8Array(n);
  for (let i = 0; i < n; i++) u[i] = pattern(i, seed);
  return u.buffer;
}

/** True when every byte of `buf` still holds the pattern of `seed`. */
export function intact(buf, seed) {
  const u = new Uint8Array(buf);
  for (let i = 0; i < u.length; i++) if (u[i] !== pattern(i, seed)) return false;
  return true;
}

/** What `fn` threw, as { name, message }, or null. */
export function caught(fn) {
  try {
    fn();
    return null;
  } catch (e) {
    return { name: e.name, message: e.message };
  }
}
