// Node tier: values decoded from a received message never alias the bytes it
// was read from. Mailbox take reads a one-frame message into a buffer the
// thread reuses for the next one (the argument is in mailbox.js, "What a
// received message may be used for"); these tests keep every byte array,
// buffer, view and string received in both directions, across later calls
// and nested calls, and check them byte by byte afterwards, at sizes around
// 4096 bytes (the reused buffer's first size), at sizes that grow it (up to
// 200,000 bytes), and with mailboxes small enough that those messages travel
// as several frames.
// Run: node --test bridge-js/test/aliasing.test.js
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { BridgeWorker } from "../src/main.js";
import { make, checkAll, cases } from "./fixtures/alias-worker.js";

const FIXTURE = new URL("./fixtures/alias-worker.js", import.meta.url);

// Default capacity (every message here is one frame), 4096 (a 4097-byte
// message is two frames), and 1 KiB (most are several).
for (const capacity of [undefined, 4096, 1024]) {
  describe(`received values own their bytes (capacity ${capacity ?? "default"})`, () => {
    let w;
    const kept = [];
    before(async () => {
      w = new BridgeWorker(FIXTURE, { type: "module", capacity });
      w.sync.makeM = (kind, n, seed) => make(kind, n, seed);
      w.sync.nopM = () => {};
      w.sync.keepM = (v, kind, n, seed) => {
        kept.push([v, kind, n, seed, "main kept an argument"]);
      };
      w.sync.makeSetterM = (seed) => ({ zzAlias: seed, big: make("u8", 2000, seed + 2) });
      w.sync.nestM = async (v, kind, n, seed) => {
        kept.push([v, kind, n, seed, "main kept a nested call's argument"]);
        const back = await w.sync.nestW(make(kind, n, seed + 1), kind, n, seed + 1);
        kept.push([back, kind, n, seed + 5, "main kept a nested reply"]); // nestW adds 4 to its seed
        return make(kind, n, seed + 2);
      };
      await w.ready;
    });
    after(() => w.terminate());

    test("worker -> main: replies the worker keeps across later calls", async () => {
      assert.deepEqual(await w.sync.fromMain(cases()), []);
    });

    test("worker -> main: arguments main keeps", async () => {
      kept.length = 0;
      const list = cases();
      assert.equal(await w.sync.toMain(list), list.length);
      assert.equal(kept.length, list.length);
      assert.deepEqual(checkAll(kept), []);
    });

    test("main -> worker: replies main keeps, and arguments the worker keeps", async () => {
      kept.length = 0;
      for (const [kind, n, seed] of cases()) {
        kept.push([await w.sync.makeW(kind, n, seed), kind, n, seed, "main kept a reply"]);
        await w.sync.keepW(make(kind, n, seed + 1), kind, n, seed + 1);
      }
      assert.deepEqual(checkAll(kept), []);
      assert.deepEqual(await w.sync.checkW(), []);
    });

    test("main -> worker, pipelined: the worker drains many messages in a row", async () => {
      const list = cases().filter(([, n]) => n <= 100 || n >= 4080);
      const sent = list.map(([kind, n, seed]) => w.sync.keepW(make(kind, n, seed + 7), kind, n, seed + 7));
      const replies = list.map(([kind, n, seed]) => w.sync.makeW(kind, n, seed + 8));
      await Promise.all(sent);
      const got = await Promise.all(replies);
      assert.deepEqual(checkAll(got.map((v, i) => [v, list[i][0], list[i][1], list[i][2] + 8, "main kept a pipelined reply"])), []);
      assert.deepEqual(await w.sync.checkW(), []);
    });

    test("a sync call made by a setter the decoder runs, in the middle of a message", async () => {
      assert.deepEqual(await w.sync.setterInReply(11), []);
      await w.sync.armSetter();
      assert.deepEqual(await w.sync.setterInRequest({ zzAlias: 21, big: make("u8", 2000, 23) }, 21), []);
    });

    test("nested both ways: a worker call served while main calls back into the worker", async () => {
      kept.length = 0;
      // Every kind at a few sizes: 1 small message, and around 4096 bytes.
      const list = cases().filter(([, n]) => n === 9 || (n >= 4040 && n <= 4100));
      assert.deepEqual(await w.sync.outer(list), []);
      assert.equal(kept.length, 2 * list.length);
      assert.deepEqual(checkAll(kept), []);
    });
  });
}

// The reused buffer is the thread's, not a mailbox's: main reads what two
// workers send into the same buffer, one message after the other.
describe("received values own their bytes: two workers' messages read into one buffer", () => {
  const workers = [];
  const kept = [];
  before(async () => {
    for (let k = 0; k < 2; k++) {
      const w = new BridgeWorker(FIXTURE, { type: "module" });
      w.sync.keepM = (v, kind, n, seed) => {
        kept.push([v, kind, n, seed, `main kept worker ${k}'s argument`]);
      };
      w.sync.nopM = () => {};
      workers.push(w);
    }
    await Promise.all(workers.map((w) => w.ready));
  });
  after(() => workers.forEach((w) => w.terminate()));

  test("both workers call main at once with values of every size", async () => {
    const list = cases().filter(([, n]) => n <= 1000 || n % 10 === 0 || n > 4110);
    // Worker 1 sends the list backwards, so large and small messages meet.
    const counts = await Promise.all([
      workers[0].sync.toMain(list),
      workers[1].sync.toMain(list.map(([kind, n, seed]) => [kind, n, seed + 100000]).reverse()),
    ]);
    assert.deepEqual(counts, [list.length, list.length]);
    assert.equal(kept.length, 2 * list.length);
    assert.deepEqual(checkAll(kept), []);
  });
});
