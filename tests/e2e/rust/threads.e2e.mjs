// The wasm-threads flavour of the Rust embedding in headless Chromium: the
// demo page demo/mandelbrot/ (a Rust worker with a wasm-bindgen-rayon pool,
// one channel per pool thread in the shared wasm memory, adopted by the
// page's BridgeWorker).
//
// Not named *.test.mjs on purpose: it needs the nightly build
// (`cargo xtask build --threads`), so the `e2e` step's `node --test
// tests/e2e/` does not pick it up; the `e2e-threads` step of `cargo xtask
// test` builds the flavour and runs this file:
//
//   node --test tests/e2e/rust/threads.e2e.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { e2e, assertClean } from "../harness.mjs";

const PKG = new URL("../../../demo/.build/mandelbrot/", import.meta.url);
const h = e2e({ servers: ["isolated"] });

// An independent JS Mandelbrot (the same f64 operations as the Rust `row`),
// to check the counts the pool computed and the page drew.
function reference(v) {
  const rows = [];
  for (let y = 0; y < v.height; y++) {
    const cy = v.y0 + y * v.step;
    const row = new Array(v.width);
    for (let x = 0; x < v.width; x++) {
      const cx = v.x0 + x * v.step;
      let zr = 0;
      let zi = 0;
      let i = 0;
      while (i < v.max_iter && zr * zr + zi * zi <= 4.0) {
        const t = zr * zr - zi * zi + cx;
        zi = 2.0 * zr * zi + cy;
        zr = t;
        i++;
      }
      row[x] = i;
    }
    rows.push(row);
  }
  return rows;
}

function fnv(rows) {
  let h = 0x811c9dc5;
  for (const r of rows) for (const c of r) h = Math.imul(h ^ c, 16777619) >>> 0;
  return h;
}

function requirePkg() {
  const js = new URL("mandelbrot_threads.js", PKG);
  if (!existsSync(js) || !readFileSync(js, "utf8").includes("allocThreadChannels")) {
    throw new Error("demo/.build/mandelbrot is missing: build the wasm-threads flavour with `cargo xtask build --threads` (nightly + rust-src)");
  }
}

async function runDemo(t, threads, calls, { channels = null, expectError = false, panic = false } = {}) {
  requirePkg();
  const p = await h.open(t);
  const q = new URLSearchParams({ threads, calls });
  if (channels !== null) q.set("channels", channels);
  if (panic) q.set("panic", "1");
  const response = await p.page.goto(p.url(`/demo/mandelbrot/?${q}`));
  assert.equal(response.status(), 200);
  try {
    await Promise.race([
      p.page.waitForFunction(() => window.__threads && window.__threads.done, null, { timeout: 120_000, polling: 50 }),
      // A panic logs console errors on purpose (checked by its test).
      panic ? new Promise(() => {}) : p.firstError,
    ]);
  } catch (e) {
    const state = await p.page.evaluate(() => window.__threads).catch(() => null);
    throw new Error(`${e.message}\npage state: ${JSON.stringify(state)?.slice(0, 2000)}\npage log:\n  ${p.log.join("\n  ")}`, { cause: e });
  }
  const state = await p.page.evaluate(() => window.__threads);
  if (!expectError) assert.equal(state.error, null, `the page failed: ${state.error}\npage log:\n  ${p.log.join("\n  ")}`);
  return { p, state, r: state.results };
}

for (const threads of [4, 1]) {
  test(`Rust rayon pool of ${threads}: every pool thread calls the page synchronously, results match one thread`, { timeout: 180_000 }, async (t) => {
    const calls = 50;
    const { p, r } = await runDemo(t, threads, calls);
    assert.equal(r.crossOriginIsolated, true);
    assert.equal(r.threads, threads);

    // One channel per pool thread, adopted by the page, each at its own place
    // in the wasm memory, and every one taken by a pool thread.
    assert.equal(r.adopted.length, threads);
    assert.equal(new Set(r.adopted).size, threads);
    assert.equal(r.freeAfter, 0, "every pool thread took a channel of its own");

    // All threads at once: each of them made `calls` calls, starting together
    // behind a barrier, and got its own answers back, in order.
    assert.equal(r.all.threads, threads);
    assert.deepEqual(r.all.answered_by_thread, new Array(threads).fill(calls));
    const expected = Array.from({ length: calls }, (_, j) => j);
    for (let i = 0; i < threads; i++) {
      assert.deepEqual(r.echoes[i], expected, `the page got pool thread ${i}'s calls, each once, in order`);
      // ...and each thread wrote its own line of the page through DOM handles.
      assert.equal(r.threadLines[i], `pool thread ${i}: ${calls} of ${calls} calls answered`);
    }

    // The rendering: every row reported once, by the thread Rust says computed it.
    const v = r.view;
    assert.deepEqual(r.rowSeen, new Array(v.height).fill(1), "each row reached the page exactly once");
    assert.deepEqual(r.rowsByThreadPage, r.render.rows_by_thread);
    assert.equal(r.render.rows_by_thread.reduce((a, b) => a + b, 0), v.height);
    assert.equal(r.render.threads, threads);
    assert.equal(r.progress, `${v.height} / ${v.height} rows`);

    // Correct counts: the pool, one Rust thread, what the page drew and an
    // independent JS computation agree.
    const ref = reference(v);
    const refSum = fnv(ref);
    const refTotal = ref.reduce((s, row) => s + row.reduce((a, c) => a + c, 0), 0);
    assert.equal(r.single.checksum, refSum, "one Rust thread vs JS");
    assert.equal(r.render.checksum, refSum, "the pool vs JS");
    assert.equal(r.pageChecksum, refSum, "the rows the page received vs JS");
    assert.equal(r.single.total_iterations, refTotal);
    assert.equal(r.render.total_iterations, refTotal);
    assert.equal(r.pageTotal, refTotal);
    // The page exported nothing to the pool threads (their handles were released).
    assert.equal(r.mainExports, 0);
    t.diagnostic(`${threads} threads: ${threads * calls} calls at once in ${r.allMs.toFixed(1)} ms; ` +
      `render ${r.renderMs.toFixed(1)} ms (rows by thread ${JSON.stringify(r.render.rows_by_thread)}), ` +
      `one thread without calls ${r.singleMs.toFixed(1)} ms; checksum 0x${refSum.toString(16)}`);
    assertClean({ errors: p.errors, state: null });
  });
}

test("a pool thread without a channel of its own gets BridgeError::NoChannel, the others go on", { timeout: 180_000 }, async (t) => {
  // 3 pool threads, channels for 2: the barrier releases all three at once,
  // two take the channels and make their calls, the third fails at once.
  const calls = 5;
  const { p, state } = await runDemo(t, 3, calls, { channels: 2, expectError: true });
  assert.match(state.error ?? "", /a pool thread failed: no free channel for this thread/);
  // The two threads with a channel made all their calls; the third none.
  const made = state.echoes.map((e) => e.length).sort((a, b) => a - b);
  assert.deepEqual(made, [0, calls, calls]);
  for (const e of state.echoes) if (e.length) assert.deepEqual(e, Array.from({ length: calls }, (_, j) => j));
  assertClean({ errors: p.errors, state: null });
});

test("a Rust panic on the worker's thread rejects the pending and later calls with a ClosedError that names it, no hang", { timeout: 180_000 }, async (t) => {
  // Before the demo's bootstrap reported failures (failOnce), these calls
  // never settled and the page never finished.
  const { p, r } = await runDemo(t, 2, 1, { panic: true });
  for (const part of ["call", "pending", "later"]) {
    assert.match(r.panic[part], /^ClosedError: the worker stopped serving: the Rust worker panicked at src\/lib\.rs:\d+:\d+:\s+the demo's test panic/, part);
  }
  // The panic hook and the bootstrap log why serving ended; nothing else.
  assertClean({ errors: p.errors, state: null }, { allow: [/mandelbrot worker:|panicked at|the demo's test panic|unreachable/] });
});
