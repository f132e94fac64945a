// Tests of the wasm package (crates/bridge-wasm) from Node: SabRegion with a
// real worker_thread over a real SharedArrayBuffer, the DeadlockTracker, and
// the Rust wire codec on the golden vectors and on bytes the JS codec writes.
//
// Needs the package built first:
//   cargo build -p bridge-wasm --target wasm32-unknown-unknown --profile release-wasm
//   wasm-bindgen --target web --out-dir bridge-js/pkg target/wasm32-unknown-unknown/release-wasm/bridge_wasm.wasm
// (or `cargo xtask build`). This file is also the worker: `new Worker(thisFile)`
// runs the branch below.

import { isMainThread, parentPort, workerData, Worker } from "node:worker_threads";
import { readFileSync, existsSync } from "node:fs";

// The shipped package (SabRegion, DeadlockTracker), and the `full` build
// (adds WorkerPort and the wire codec), which lives beside it in the
// git-ignored pkg dir.
const PKGS = {
  default: {
    dir: "../pkg/",
    hint:
      "the wasm package bridge-js/pkg is missing: build it with " +
      "`cargo build -p bridge-wasm --target wasm32-unknown-unknown --profile release-wasm` then " +
      "`wasm-bindgen --target web --out-dir bridge-js/pkg target/wasm32-unknown-unknown/release-wasm/bridge_wasm.wasm` " +
      "(or `cargo xtask build`)",
  },
  full: {
    dir: "../pkg/full/",
    hint:
      "the wasm package bridge-js/pkg/full is missing: build it with " +
      "`cargo build -p bridge-wasm --target wasm32-unknown-unknown --profile release-wasm --features full` then " +
      "`wasm-bindgen --target web --out-dir bridge-js/pkg/full target/wasm32-unknown-unknown/release-wasm/bridge_wasm.wasm` " +
      "(it shares the .wasm path with the default build: run wasm-bindgen right after each cargo build)",
  },
};
const pkgFiles = (which) => ({
  js: new URL(PKGS[which].dir + "bridge_wasm.js", import.meta.url),
  wasm: new URL(PKGS[which].dir + "bridge_wasm_bg.wasm", import.meta.url),
});

async function loadPkg(which = "default") {
  const { js, wasm } = pkgFiles(which);
  if (!existsSync(js) || !existsSync(wasm)) throw new Error(PKGS[which].hint);
  const pkg = await import(js);
  pkg.initSync({ module: readFileSync(wasm) });
  return pkg;
}

if (!isMainThread && workerData.mode === "port") {
  // ------------------------------------- worker side: Rust mailbox (WorkerPort)
  const pkg = await loadPkg("full");
  const { sab, capacity, maxMessage } = workerData;
  const port = new pkg.WorkerPort(sab, capacity, maxMessage);
  parentPort.postMessage({ t: "ready" });
  let served = 0;
  for (;;) {
    let msg;
    try {
      msg = port.recv(10_000);
    } catch (e) {
      parentPort.postMessage({ t: "ended", served, message: String(e.message) });
      break;
    }
    // Echo reversed, with one byte appended (so an empty message is visible).
    const out = new Uint8Array(msg.length + 1);
    for (let i = 0; i < msg.length; i++) out[i] = msg[msg.length - 1 - i];
    out[msg.length] = 0xee;
    port.send(out, 10_000);
    served++;
  }
} else if (!isMainThread) {
  // ------------------------------------------------- worker side: SabRegion
  const pkg = await loadPkg();
  const region = new pkg.SabRegion(workerData.sab);
  parentPort.on("message", (cmd) => {
    if (cmd.t === "wait") {
      parentPort.postMessage({ t: "parking", canBlock: region.canBlock });
      const t0 = performance.now();
      const result = region.wait(cmd.slot, cmd.expected, cmd.timeoutMs);
      parentPort.postMessage({
        t: "waited",
        result,
        ms: performance.now() - t0,
        value: region.load(cmd.valueSlot),
        bytes: Array.from(region.readBytes(cmd.byteOffset, 4)),
      });
    } else if (cmd.t === "exit") {
      process.exit(0);
    }
  });
  parentPort.postMessage({ t: "ready" });
} else {
  // -------------------------------------------------------------- main side
  const { test, before } = await import("node:test");
  const assert = (await import("node:assert/strict")).default;
  const { once } = await import("node:events");

  let pkg;
  before(async () => {
    pkg = await loadPkg();
  });

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const fromHex = (h) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
  const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

  test("the wasm packages are built", () => {
    // Fails (does not skip) with the build commands when a package is missing.
    for (const which of Object.keys(PKGS)) {
      const { js, wasm } = pkgFiles(which);
      assert.ok(existsSync(js) && existsSync(wasm), PKGS[which].hint);
    }
    assert.equal(typeof pkg.wireRoundTrip, "undefined", "the shipped package leaves the codec out");
  });

  // ---------------------------------------------------------------- SabRegion

  test("SabRegion: atomics and byte copies on a SharedArrayBuffer", () => {
    const sab = new SharedArrayBuffer(64);
    const region = new pkg.SabRegion(sab);
    const view = new Int32Array(sab);
    assert.equal(region.byteLength, 64);
    assert.equal(region.canBlock, true, "Node's main thread may block");
    assert.equal(new pkg.SabRegion(sab, false).canBlock, false);

    region.store(3, -42);
    assert.equal(view[3], -42, "store reaches the shared buffer");
    view[4] = 7;
    assert.equal(region.load(4), 7, "load sees JS writes");
    assert.equal(region.compareExchange(4, 7, 9), 7);
    assert.equal(view[4], 9, "exchanged when the slot held the expected value");
    assert.equal(region.compareExchange(4, 7, 11), 9);
    assert.equal(view[4], 9, "unchanged when it did not");

    region.writeBytes(33, Uint8Array.of(1, 2, 3, 250));
    assert.deepEqual(Array.from(new Uint8Array(sab, 32, 6)), [0, 1, 2, 3, 250, 0]);
    new Uint8Array(sab)[60] = 99;
    assert.deepEqual(Array.from(region.readBytes(58, 6)), [0, 0, 99, 0, 0, 0]);

    assert.equal(region.wait(0, 1, 0), "not-equal");
    const t0 = performance.now();
    assert.equal(region.wait(0, 0, 30), "timed-out");
    assert.ok(performance.now() - t0 >= 25, "the time-out was waited");
    assert.equal(region.notify(0), 0, "nobody waits");
    const now = region.nowMs();
    assert.ok(Math.abs(now - performance.now()) < 50, `clock is performance.now(): ${now}`);
  });

  test("SabRegion: misuse throws instead of aborting", () => {
    const region = new pkg.SabRegion(new SharedArrayBuffer(16));
    assert.throws(() => region.load(4), RangeError);
    assert.throws(() => region.readBytes(12, 8), /outside the 16-byte SharedArrayBuffer/);
    assert.throws(() => region.writeBytes(17, Uint8Array.of(1)), /outside the 16-byte/);
    const noBlock = new pkg.SabRegion(new SharedArrayBuffer(16), false);
    assert.throws(() => noBlock.wait(0, 0, 1), /may not block/);
    // The instance is still usable after a thrown error.
    region.store(1, 5);
    assert.equal(region.load(1), 5);
  });

  test("SabRegion: a worker parked in wait is woken by a notify from this thread", async () => {
    const sab = new SharedArrayBuffer(64);
    const region = new pkg.SabRegion(sab);
    const worker = new Worker(new URL(import.meta.url), { workerData: { sab } });
    try {
      const [ready] = await once(worker, "message");
      assert.equal(ready.t, "ready");

      // 1. A real cross-thread wake: notify until the worker was parked.
      const waited = new Promise((resolve) =>
        worker.on("message", (m) => m.t === "waited" && resolve(m)),
      );
      // Slot 2 stays 0 (what the worker waits on), so only a notify can end
      // the wait with "ok"; the data it must see is written before notify.
      worker.postMessage({ t: "wait", slot: 2, expected: 0, timeoutMs: 10_000, valueSlot: 5, byteOffset: 40 });
      region.writeBytes(40, Uint8Array.of(9, 8, 7, 6));
      region.store(5, 123);
      let woken = 0;
      const deadline = performance.now() + 5_000;
      while (woken === 0 && performance.now() < deadline) {
        await sleep(5);
        woken = region.notify(2, 1); // 0 until the worker is parked
      }
      assert.equal(woken, 1, "notify found the worker parked in Atomics.wait");
      const r = await waited;
      assert.equal(r.result, "ok", "woken by the notify, not by the time-out");
      assert.ok(r.ms < 9_000, `woke promptly (${r.ms} ms)`);
      assert.equal(r.value, 123, "the worker sees a slot written before notify");
      assert.deepEqual(r.bytes, [9, 8, 7, 6], "and the bytes written before it");

      // 2. Nobody notifies: the worker's wait times out.
      const timedOut = new Promise((resolve) =>
        worker.on("message", (m) => m.t === "waited" && resolve(m)),
      );
      worker.postMessage({ t: "wait", slot: 3, expected: 0, timeoutMs: 50, valueSlot: 3, byteOffset: 0 });
      const t = await timedOut;
      assert.equal(t.result, "timed-out");
      assert.ok(t.ms >= 45, `waited the time-out (${t.ms} ms)`);
    } finally {
      worker.postMessage({ t: "exit" });
      await once(worker, "exit");
    }
  });

  test("WorkerPort (Rust mailbox in a worker) and the JS Mailbox share one channel", async () => {
    const full = await loadPkg("full");
    assert.equal(typeof full.WorkerPort, "function");
    const { Mailbox, channelBytes, toWorkerOffset } = await import("../src/mailbox.js");
    const capacity = 64;
    const maxMessage = 1 << 20;
    const sab = new SharedArrayBuffer(channelBytes(capacity));
    const toMain = new Mailbox(sab, 0, capacity, maxMessage);
    const toWorker = new Mailbox(sab, toWorkerOffset(capacity), capacity, maxMessage);
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { mode: "port", sab, capacity, maxMessage },
    });
    const messages = [];
    worker.on("message", (m) => messages.push(m));
    const nextMessage = async () => {
      while (messages.length === 0) await sleep(2);
      return messages.shift();
    };
    async function recv() {
      for (;;) {
        const m = toMain.tryRecv();
        if (m !== null) return m;
        await (toMain.waitAsync() ?? sleep(1)); // sleep only without Atomics.waitAsync
      }
    }
    try {
      assert.equal((await nextMessage()).t, "ready");
      let x = 12345;
      const sizes = [0, 1, capacity - 1, capacity, capacity + 1, 3 * capacity + 5, 100_000];
      for (let i = 0; i < 300; i++) sizes.push((x = (x * 1103515245 + 12345) >>> 0) % 700);
      for (const n of sizes) {
        const msg = new Uint8Array(n);
        for (let i = 0; i < n; i++) msg[i] = (i * 31 + n) & 0xff;
        toWorker.send(msg);
        const back = await recv();
        assert.equal(back.length, n + 1, `reply length for ${n} bytes`);
        assert.equal(back[n], 0xee);
        for (let i = 0; i < n; i++) {
          if (back[i] !== msg[n - 1 - i]) assert.fail(`byte ${i} of the ${n}-byte reply differs`);
        }
      }
      toWorker.close();
      const end = await nextMessage();
      assert.equal(end.t, "ended");
      assert.equal(end.served, sizes.length);
      assert.match(end.message, /^WorkerPort\.recv: .*closed/i);
    } finally {
      await worker.terminate();
    }
  });

  // ---------------------------------------------------------- DeadlockTracker

  test("DeadlockTracker: direct, nested, and the FAQ deadlock in strict mode", () => {
    const t = new pkg.DeadlockTracker(true);
    assert.equal(t.maxNesting, 64);
    assert.equal(t.callWorker(1, 1, "proxy.idle()"), 0, "idle worker: direct");
    assert.equal(t.callFinished(1, 1), true);

    t.beginServing(1, 7, "proxy.main_task()");
    assert.equal(t.isBlocked(1), true);
    assert.equal(t.blockedIn(1), 7);
    assert.equal(t.callWorker(1, 2, "proxy.worker_task()", 1, 7), 7, "nested into seq 7");
    assert.equal(t.nestingDepth(1), 1);
    assert.equal(t.outstanding(1), 1);
    assert.equal(t.callFinished(1, 2), true);
    assert.equal(t.finishServing(1, 7), true);
    assert.equal(t.finishServing(1, 7), false);
    assert.equal(t.blockedIn(1), undefined);

    t.setReentrant(1, false);
    t.beginServing(1, 8, "proxy.main_task()");
    const msg = t.callWorker(1, 3, "proxy.worker_task()", 1, 8);
    assert.equal(typeof msg, "string");
    assert.match(
      msg,
      /^Possible deadlock: proxy\.worker_task\(\) was awaited while the worker is blocked in proxy\.main_task\(\)/,
    );
    assert.match(msg, /reentrant: false/);
    assert.equal(t.outstanding(1), 0, "a refused call is not recorded");
    // Without a known handler context the call waits for the worker instead.
    assert.equal(t.callWorker(1, 4, "proxy.later()"), 0);
    assert.deepEqual(Array.from(t.removeWorker(1)), [4]);
  });

  test("DeadlockTracker: a cycle through two strict workers names every call", () => {
    const t = new pkg.DeadlockTracker(false);
    t.beginServing(1, 10, "proxy.main_a()");
    t.beginServing(2, 20, "proxy.main_b()");
    assert.equal(t.callWorker(2, 1, "proxy.b_task()", 1, 10), 0);
    const msg = t.callWorker(1, 1, "proxy.a_task()", 2, 20);
    assert.equal(typeof msg, "string");
    assert.match(msg, /^Possible deadlock: proxy\.a_task\(\) was awaited while the worker is blocked in proxy\.main_a\(\)/);
    for (const part of ["proxy.main_b()", "proxy.b_task()", "worker #1", "worker #2", "cycle"]) {
      assert.ok(msg.includes(part), `${part} missing in: ${msg}`);
    }
  });

  test("DeadlockTracker: nesting limit and a pending nested result", () => {
    const t = new pkg.DeadlockTracker(true, 2);
    assert.equal(t.maxNesting, 2);
    t.beginServing(1, 1, "proxy.ping()");
    assert.equal(t.callWorker(1, 1, "proxy.pong()"), 1);
    t.beginServing(1, 2, "proxy.ping()");
    assert.equal(t.callWorker(1, 2, "proxy.pong()"), 2);
    t.beginServing(1, 3, "proxy.ping()");
    const deep = t.callWorker(1, 3, "proxy.pong()");
    assert.match(deep, /^Possible deadlock: proxy\.pong\(\) was awaited while the worker is blocked in proxy\.ping\(\)/);
    assert.match(deep, /nested 2 deep/);

    const p = new pkg.DeadlockTracker(true);
    p.beginServing(1, 5, "proxy.main_task()");
    assert.equal(p.callWorker(1, 9, "proxy.worker_task()", 1, 5), 5);
    const mainSide = p.nestedPending(1, 9);
    assert.match(mainSide, /^Possible deadlock: proxy\.worker_task\(\) was awaited while the worker is blocked in proxy\.main_task\(\)/);
    assert.match(mainSide, /: proxy\.worker_task\(\) returned a Promise, which the blocked worker cannot await/);
    assert.equal(
      pkg.DeadlockTracker.pendingResultMessage("proxy.worker_task()", "proxy.main_task()"),
      mainSide,
      "the worker builds the same message",
    );
    assert.equal(p.nestedPending(1, 9), undefined, "the call is over");
  });

  test("DeadlockTracker: bookkeeping errors throw with a reason", () => {
    const t = new pkg.DeadlockTracker(true);
    assert.throws(() => t.beginServing(0, 1, "x()"), /endpoint 0 is the main thread/);
    t.beginServing(1, 1, "x()");
    assert.throws(() => t.beginServing(1, 1, "x()"), /already being served/);
  });

  // ---------------------------------------------------------------- wire

  const vectorsDir = new URL("../../tests/vectors/", import.meta.url);
  for (const [file, fn] of [
    ["messages.json", "wireRoundTrip"],
    ["values.json", "wireRoundTripValue"],
  ]) {
    const path = new URL(file, vectorsDir);
    test(`${fn}: Rust decodes and re-encodes every vector of tests/vectors/${file}`, async () => {
      const full = await loadPkg("full");
      assert.ok(existsSync(path), `tests/vectors/${file} is missing: generate it with UPDATE_VECTORS=1 cargo test -p bridge-core --test vectors`);
      const vectors = JSON.parse(readFileSync(path, "utf8"));
      assert.ok(vectors.length > 0, `${file} has no vectors`);
      for (const v of vectors) {
        const out = full[fn](fromHex(v.hex));
        assert.equal(toHex(out), v.hex, `vector ${v.name}`);
      }
    });
  }

  test("wireRoundTrip: hand-encoded messages (docs/protocol.md §3) and refusals", async () => {
    const full = await loadPkg("full");
    // Cancel { seq: 5 }: tag 3, varint 5.
    assert.equal(toHex(full.wireRoundTrip(Uint8Array.of(0x03, 0x05))), "0305");
    // Cancel { seq: 300 }: 300 = 0xac 0x02 as a LEB128 varint.
    assert.equal(toHex(full.wireRoundTrip(Uint8Array.of(0x03, 0xac, 0x02))), "03ac02");
    // Release([{ id: 1, count: 2 }]): tag 2, one element, id 1, count 2.
    assert.equal(toHex(full.wireRoundTrip(Uint8Array.of(2, 1, 1, 2))), "02010102");
    // Request { seq 1, nested_in 0, target 0, Get { key: "x" }, releases [] }.
    const get = Uint8Array.of(0, 1, 0, 0, 0, 0, 0, 1, 0x78, 0);
    assert.deepEqual(Array.from(full.wireRoundTrip(get)), Array.from(get));

    assert.throws(() => full.wireRoundTrip(Uint8Array.of(3)), /Rust refused the message: wire: .*truncated/);
    assert.throws(() => full.wireRoundTrip(Uint8Array.of(3, 5, 0)), /trailing/);
    assert.throws(() => full.wireRoundTrip(Uint8Array.of(9)), /unknown .*variant 9/);
    assert.throws(() => full.wireRoundTripValue(Uint8Array.of(19)), /Rust refused the value/);
  });

  test("wireRoundTrip: bytes written by the JS codec come back identical", async () => {
    const full = await loadPkg("full");
    const wire = await import("../src/wire.js");
    const refs = {
      exportValue() {
        throw new Error("no references in this test");
      },
      importRemote() {
        throw new Error("no references in this test");
      },
      importLocal() {
        throw new Error("no references in this test");
      },
    };
    const shared = { k: 1 };
    const messages = [
      { t: "request", seq: 1, nestedIn: 0, target: 0, op: { t: "get", key: "title" }, releases: [] },
      {
        t: "request",
        seq: 70000,
        nestedIn: 3,
        target: 12,
        op: { t: "call", name: "compute", args: [1, -2.5, "é\u{1F600}", null, undefined, true, 2n ** 70n] },
        releases: [[4, 2], [9, 1]],
      },
      {
        t: "reply",
        seq: 2,
        ok: true,
        byRef: false,
        value: {
          list: [1, , 3],
          map: new Map([[1, "one"]]),
          set: new Set(["a"]),
          date: new Date(1700000000000),
          re: /a+b/gi,
          bytes: new Uint8Array([1, 2, 3]),
          f64: new Float64Array([Math.PI]),
          same: [shared, shared],
          lone: "\uD800x",
          nan: NaN,
          negZero: -0,
        },
        releases: [],
      },
      { t: "reply", seq: 3, ok: false, byRef: false, value: new TypeError("bad", { cause: 5 }), releases: [] },
      { t: "release", releases: [[1, 1]] },
      { t: "cancel", seq: 9 },
    ];
    for (const msg of messages) {
      const bytes = wire.encodeMessage(msg, refs);
      const back = full.wireRoundTrip(bytes);
      assert.equal(toHex(back), toHex(bytes), `message ${msg.t} ${msg.seq ?? ""}`);
    }
  });

}
