// tests/server.mjs, the static server of the demo, the browser specs and the
// benchmarks: a file that vanishes while it is being served (a build
// rewriting demo/.build during a bench) must not take the server down.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../../tests/server.mjs";

test("a file removed after its stat is a 404, and the server serves on", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "wb-server-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, "gone.js"), "export const x = 1;\n");
  writeFileSync(join(root, "kept.js"), "export const y = 2;\n");
  const errors = [];
  const onError = (e) => errors.push(e);
  process.on("uncaughtException", onError);
  process.on("unhandledRejection", onError);
  t.after(() => {
    process.off("uncaughtException", onError);
    process.off("unhandledRejection", onError);
  });
  // `headers` runs between the server's stat and its read of the file: the
  // file vanishes exactly there.
  const server = await startServer({
    root,
    headers: (path) => {
      if (path === "/gone.js") rmSync(join(root, "gone.js"));
      return {};
    },
  });
  t.after(() => server.close());

  const gone = await fetch(`${server.url}/gone.js`);
  assert.equal(gone.status, 404);
  assert.match(await gone.text(), /not found: \/gone\.js/);

  const kept = await fetch(`${server.url}/kept.js`);
  assert.equal(kept.status, 200);
  assert.equal(await kept.text(), "export const y = 2;\n");
  assert.deepEqual(errors.map(String), [], "no uncaught error in the server");
});
