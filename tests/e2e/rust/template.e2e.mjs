// The Rust worker template (demo/rust-template, docs/rust.md "Your first
// hour") in headless Chromium: the crate built as an outside project builds
// it, its worker started by bridge-js's shipped bootstrap (src/rust.js,
// `worker-bridge/rust`), the page calling Rust and Rust calling the page and
// writing its DOM.
//
// Not named *.test.mjs: it needs the template's build (`cargo xtask build
// --template`); the `e2e-template` step of `cargo xtask test` builds it and
// runs this file:
//
//   node --test tests/e2e/rust/template.e2e.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { e2e, assertClean } from "../harness.mjs";

const PKG_JS = new URL("../../../demo/.build/rust-template/rust_template.js", import.meta.url);
const h = e2e({ servers: ["isolated", "plain"] });

for (const [server, query] of [["isolated", ""], ["plain", "?sw"]]) {
test(`the Rust template: page -> Rust -> page and the DOM (${server}${query})`, { timeout: 60_000 }, async (t) => {
  if (!existsSync(PKG_JS)) {
    throw new Error("demo/.build/rust-template is missing: build it with `cargo xtask build --template`");
  }
  const p = await h.open(t, { server });
  const response = await p.page.goto(p.url(`/demo/rust-template/index.html${query}`));
  assert.equal(response.status(), 200);
  await p.page.waitForFunction(() => window.__template != null, null, { timeout: 45_000 });
  const r = await p.page.evaluate(() => window.__template);
  assert.equal(r.error, null, `the page failed: ${r.error}\n${p.log.join("\n")}`);
  assert.equal(r.greeting.text, "Hello, Ada! Visit number 42.");
  assert.equal(r.greeting.shouted, "HELLO, ADA! VISIT NUMBER 42.");
  // #out and the paragraph Rust appended.
  assert.equal(r.greeting.paragraphs, 2);
  assert.equal(r.sum, 5.5);
  assert.equal(await p.page.textContent("#from-rust"), "HELLO, ADA! VISIT NUMBER 42.");
  assert.equal(r.transport, query === "?sw" ? "service-worker" : "atomics");
  assertClean({ errors: p.errors, state: null });
});
}

test("the Rust template on a page without isolation and no service worker: a clear start-up error, no hang", { timeout: 60_000 }, async (t) => {
  const p = await h.open(t, { server: "plain" });
  await p.page.goto(p.url("/demo/rust-template/index.html"));
  await p.page.waitForFunction(() => window.__template != null, null, { timeout: 45_000 });
  const r = await p.page.evaluate(() => window.__template);
  assert.match(String(r.error), /runRustWorker: the Rust embedding needs a transport that can block: atomics \(SharedArrayBuffer\) or the service worker; got "async"/);
});
