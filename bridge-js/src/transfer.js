// `transfer(value, transferables)`: move ArrayBuffers instead of copying them
// (docs/api.md "Moving buffers: transfer()", docs/protocol.md "Transferred
// buffers").
//
// Like comlink's marker: it notes, for the value it returns (the same value),
// which ArrayBuffers go with it when it is next sent as an argument or result
// of a call. The codec (wire.js) reads and consumes the note when it meets
// the value at the top level of a message (an argument, a `this`, a set
// value, a result). After the message is sent each listed buffer is detached
// on the sender (byteLength 0), whatever the transport did: moved without a
// copy beside the message where it can, copied through the channel where it
// cannot (see docs/api.md for which).

const MARKS = new WeakMap();
// True once transfer() was ever called: until then the codec skips looking
// for marks (a live binding, read on the hot path).
export let marksActive = false;

const isView = ArrayBuffer.isView;

/** True when this ArrayBuffer can no longer be used (it was transferred). */
export function isDetached(buf) {
  const d = buf.detached;
  if (typeof d === "boolean") return d;
  // Runtimes without ArrayBuffer.prototype.detached (Node 20): a view over a
  // detached buffer cannot be made.
  if (buf.byteLength !== 0) return false;
  try {
    new Uint8Array(buf);
    return false;
  } catch {
    return true;
  }
}

function describe(x) {
  if (x === null) return "null";
  if (typeof x !== "object") return typeof x;
  const tag = Object.prototype.toString.call(x).slice(8, -1);
  return tag === "Object" && x.constructor && x.constructor.name ? x.constructor.name : tag;
}

/**
 * Marks `value` so that the ArrayBuffers in `transferables` are moved, not
 * copied, when `value` is sent (as an argument of a call or as a function's
 * result). Returns `value` itself. Without `transferables`, `value` must be an
 * ArrayBuffer (moved itself) or a typed array / DataView (its buffer moves).
 *
 *   sync.process(transfer(buf));                 // worker: buf is detached after the call
 *   sync.process(transfer({ pixels }, [pixels.buffer]));
 *   w.sync.fill = (n) => transfer(new Float64Array(n));  // a result that moves
 */
export function transfer(value, transferables) {
  let list;
  if (transferables === undefined) {
    if (value instanceof ArrayBuffer) list = [value];
    else if (isView(value)) list = [value.buffer];
    else {
      throw new TypeError(`transfer(value): value is ${describe(value)}; pass the buffers to move as the second ` +
        "argument, e.g. transfer(value, [buffer]) (only an ArrayBuffer or a typed array may omit it)");
    }
  } else {
    if (transferables === null || typeof transferables[Symbol.iterator] !== "function" || typeof transferables === "string") {
      throw new TypeError("transfer(value, transferables): transferables must be an array of ArrayBuffers");
    }
    list = Array.from(transferables);
  }
  if (value === null || (typeof value !== "object" && typeof value !== "function")) {
    throw new TypeError(`transfer(value, ...): value must be an object (the argument or result that carries the buffers), got ${describe(value)}`);
  }
  const seen = new Set();
  for (const b of list) {
    if (!(b instanceof ArrayBuffer)) {
      const shared = typeof SharedArrayBuffer === "function" && b instanceof SharedArrayBuffer;
      throw new TypeError(`transfer(): only ArrayBuffers can be moved, got ${describe(b)}` +
        (shared ? " (a SharedArrayBuffer is shared, not moved: send it as it is)"
          : isView(b) ? " (pass its .buffer)" : " (MessagePorts, streams and the like cannot cross the bridge)"));
    }
    if (seen.has(b)) throw new TypeError("transfer(): the same ArrayBuffer is listed twice; list each buffer once");
    if (isDetached(b)) {
      throw new TypeError("transfer(): this ArrayBuffer is detached (it was transferred already); " +
        "a moved buffer cannot be sent again, send a new one or a copy");
    }
    seen.add(b);
  }
  MARKS.set(value, list);
  marksActive = true;
  return value;
}

/** The buffers marked on `value`, consumed (wire.js). */
export function takeMarks(value) {
  if (!marksActive || value === null || (typeof value !== "object" && typeof value !== "function")) return undefined;
  const list = MARKS.get(value);
  if (list !== undefined) MARKS.delete(value);
  return list;
}

/** Puts marks back after a message could not be encoded or sent. */
export function restoreMarks(value, list) {
  MARKS.set(value, list);
}

/**
 * Detaches `buf` (after a copy of it was sent): the sender sees what a real
 * transfer leaves, a buffer of byteLength 0. Costs no copy.
 */
export function detach(buf) {
  if (isDetached(buf)) return;
  if (typeof buf.transfer === "function") {
    buf.transfer(0);
  } else {
    structuredClone(buf, { transfer: [buf] });
  }
}
