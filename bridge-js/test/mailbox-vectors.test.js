// The JS mailbox and protocol table against tests/vectors/mailbox.json,
// which bridge-core's mailbox writes (crates/bridge-core/tests/mailbox_vectors.rs):
// the same header offsets, slots, flags and defaults, and frame for frame
// the same bytes for the same message sequence.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Mailbox, HEADER_BYTES, channelBytes, toMainOffset, toWorkerOffset, STATE, AWAKE, POLLING, SPINNING, BEAT } from "../src/mailbox.js";
import * as protocol from "../src/protocol.js";
import { encodeMessage } from "../src/wire.js";

const V = JSON.parse(readFileSync(new URL("../../tests/vectors/mailbox.json", import.meta.url), "utf8"));

const unhex = (h) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, "0")).join("");

test("channel layout: header size, offsets, defaults", () => {
  assert.equal(HEADER_BYTES, V.header_bytes);
  for (const c of V.channels) {
    assert.equal(channelBytes(c.capacity), c.channel_bytes, `capacity ${c.capacity}`);
    assert.equal(toMainOffset(c.capacity), c.to_main);
    assert.equal(toWorkerOffset(c.capacity), c.to_worker);
  }
  assert.equal(STATE, V.slots.STATE);
  assert.deepEqual({ AWAKE, POLLING, SPINNING, BEAT }, V.state);
  assert.equal(protocol.DEFAULT_CAPACITY, V.defaults.capacity);
  assert.equal(protocol.DEFAULT_MAX_MESSAGE, V.defaults.max_message);
  assert.equal(protocol.DEFAULT_MAX_NESTING, V.defaults.max_nesting);
  // The header's slots and flags: one table (protocol.js), the Rust layout's.
  assert.equal(protocol.HEADER_BYTES, V.header_bytes);
  assert.deepEqual({ ...protocol.SLOT }, V.slots);
  assert.deepEqual({ ...protocol.FLAG }, V.flags);
  assert.deepEqual({ ...protocol.WAIT_STATE }, V.state);
  // A Mailbox made without maxMessage takes the one default.
  const sab = new SharedArrayBuffer(channelBytes(8));
  assert.equal(new Mailbox(sab, 0, 8).maxMessage, V.defaults.max_message);
});

test("the message sequence goes frame by frame as the Rust mailbox writes it", async () => {
  const { capacity, mailbox, messages } = V.sequence;
  assert.equal(mailbox, "to_worker");
  const sab = new SharedArrayBuffer(channelBytes(capacity));
  const offset = toWorkerOffset(capacity);
  const producer = new Mailbox(sab, offset, capacity, 1 << 20);
  const consumer = new Mailbox(sab, offset, capacity, 1 << 20);
  const header = new Int32Array(sab, offset, HEADER_BYTES / 4);
  const data = new Uint8Array(sab, offset + HEADER_BYTES, capacity);
  for (const m of messages) {
    const bytes = unhex(m.message);
    producer.send(bytes);
    let got = null;
    for (const [i, want] of m.frames.entries()) {
      if (i > 0) producer.pump(); // the slot was freed: write the next frame now
      assert.deepEqual(Array.from(header), want.header, `${m.name}: header of frame ${i}`);
      assert.equal(hex(data.subarray(0, header[V.slots.FRAME_LEN])), want.data, `${m.name}: data of frame ${i}`);
      got = consumer.tryRecv() ?? got;
    }
    assert.ok(got !== null, `${m.name}: the consumer got a message`);
    assert.equal(hex(got), m.message, `${m.name}: the consumer got it back`);
    await producer.flushed();
  }
});

test("the tag table is what the codec writes", () => {
  const tag = (msg) => encodeMessage(msg, null)[0];
  assert.equal(tag({ t: "cancel", seq: 1 }), protocol.TAG_CANCEL);
  assert.equal(tag({ t: "release", releases: [[1, 1]] }), protocol.TAG_RELEASE);
  assert.equal(tag({ t: "reply", seq: 1, ok: true, value: null, releases: [] }), protocol.TAG_REPLY);
  const call = { t: "request", seq: 1, nestedIn: 0, target: 0, op: { t: "call", name: "f", args: [] }, releases: [] };
  const bytes = encodeMessage(call, null);
  assert.equal(bytes[0], protocol.TAG_REQUEST);
  assert.equal(bytes[4], protocol.OP.call);
  // The last vector is a sync.f(1) request: the JS codec writes it alike.
  const last = V.sequence.messages.at(-1);
  assert.equal(last.name, "request sync.f(1)");
  assert.equal(hex(encodeMessage({ ...call, op: { t: "call", name: "f", args: [1] } }, null)), last.message);
});
