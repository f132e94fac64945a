// Adopted channels: the main thread serves channels that live in a worker's
// own memory (the wasm-threads flavour of the Rust embedding, docs/rust.md).
//
// A worker whose wasm memory is shared (built with +atomics) allocates one
// channel per thread that will call the main thread (the threads of a
// wasm-bindgen-rayon pool, which are workers nested in it) and posts
//
//   { "worker-bridge": "adopt", memory: <its memory.buffer>, channels: [byteOffset, ...],
//     capacity, maxMessage }
//
// before its "ready". For each offset the page makes an Endpoint over an
// AtomicsTransport at that offset of `memory` and serves it like the
// worker's own channel: the same `w.sync` functions, the same globals, the
// same time-out. Each channel is single producer, single consumer: one
// thread on the worker side, this page on the other, so threads never
// contend for a mailbox and nothing is locked. Calls from the page into
// the worker still go through the worker's own channel.

import { Endpoint, AtomicsTransport } from "./endpoint.js";
import { channelBytes } from "./mailbox.js";
import { BridgeError } from "./errors.js";

/**
 * Serves the channels an "adopt" message offers. `bw` is the BridgeWorker,
 * `data` the message. Throws a BridgeError for a malformed offer.
 */
export function adoptChannels(bw, data) {
  const { memory, channels, capacity, maxMessage } = data;
  if (!(memory instanceof SharedArrayBuffer)) {
    throw new BridgeError("worker-bridge: the worker offered channels in a memory that is not a SharedArrayBuffer " +
      "(build the wasm with +atomics and a shared memory, and serve the page cross-origin isolated)");
  }
  if (!Array.isArray(channels) || !Number.isInteger(capacity) || !Number.isInteger(maxMessage)) {
    throw new BridgeError("worker-bridge: malformed adopt message: needs channels (byte offsets), capacity and maxMessage");
  }
  const primary = bw._ep;
  if (primary.closed) return;
  let list = bw._adopted;
  if (list === undefined) {
    list = bw._adopted = [];
    // Closing the worker's own channel (terminate, crash, close by the
    // worker) closes the adopted ones too.
    const close = primary.close.bind(primary);
    primary.close = (err) => {
      close(err);
      for (const a of list) a.ep.close(err);
    };
  }
  for (const byteOffset of channels) {
    if (!Number.isInteger(byteOffset) || byteOffset + channelBytes(capacity) > memory.byteLength) {
      throw new BridgeError(`worker-bridge: adopted channel at ${byteOffset} (capacity ${capacity}) is outside the worker's memory of ${memory.byteLength} bytes`);
    }
    const tx = new AtomicsTransport(memory, capacity, maxMessage, "main", byteOffset);
    const ep = new Endpoint({
      side: "main",
      transport: tx,
      timeout: primary.timeout,
      reentrant: primary.reentrant,
      spinMs: primary.spinMs,
      replySpinMs: primary.replySpinMs,
      maxMessage,
      name: `${bw._name ?? "worker"} thread channel ${list.length + 1}`,
      globalObj: primary.globalObj,
      onError: primary.onError,
    });
    // One set of `w.sync` functions for the worker and all its threads.
    ep.exposed = primary.exposed;
    list.push({ ep, byteOffset });
    // A thread may already have written its first request: drain, then wait.
    ep.pump();
  }
}

/** Per adopted channel: its byte offset and its endpoint's reference counts. */
export function adoptedStats(bw) {
  return (bw._adopted ?? []).map(({ ep, byteOffset }) => ({ byteOffset, ...ep.stats() }));
}
