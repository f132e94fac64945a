// python-worker.js names every module of its static import graph itself, so
// that the worker fetches the graph in two rounds instead of one per level
// (start-up, docs/benchmarks.md "worker-bridge/python's start-up"). A module
// added deeper in the graph and not listed there brings a round back: this
// test says which.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = join(dirname(fileURLToPath(import.meta.url)), "../src");

// Static imports and re-exports (`import ... from "./x.js"`, `import "./x.js"`,
// `export ... from "./x.js"`); dynamic `import()` is not followed.
function staticImports(file) {
  const text = readFileSync(join(SRC, file), "utf8");
  const out = new Set();
  for (const m of text.matchAll(/^(?:import|export)\s(?:[^;"']*?\sfrom\s)?["'](\.[^"']+)["']/gm)) {
    out.add(normalize(join(dirname(file), m[1])));
  }
  return out;
}

test("python-worker.js imports its whole static module graph directly", () => {
  const direct = staticImports("python-worker.js");
  const seen = new Set();
  const todo = [...direct];
  while (todo.length) {
    const f = todo.pop();
    if (seen.has(f)) continue;
    seen.add(f);
    for (const g of staticImports(f)) todo.push(g);
  }
  assert.ok(seen.size >= 10, `the graph walk found ${seen.size} modules: the import pattern no longer matches`);
  const missing = [...seen].filter((f) => !direct.has(f)).sort();
  assert.deepEqual(missing, [], `list these in python-worker.js beside the others: ${missing.join(", ")}`);
});
