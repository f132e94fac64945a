// Builds a baseline for before/after runs: bridge-js as of a git revision
// (default: main), bundled as `cargo xtask build` bundles it (xtask/dist.mjs),
// into benches/browser/.build/base/, which the
// `ours-base` rows of run.mjs load. Then, e.g.:
//
//   node benches/browser/base.mjs [REV]
//   node benches/browser/run.mjs --libs ours-base,ours-dist --only small,title,m2w,dom,startup
//
// A revision whose bridge-js imports generated files (bridge-js/gen) gets
// them from this checkout's `cargo xtask build`.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { buildDist } from "../../xtask/dist.mjs";
import { REPO_ROOT } from "../../tests/server.mjs";

const rev = process.argv[2] ?? "main";
const out = join(REPO_ROOT, "benches", "browser", ".build", "base");
const tree = join(out, "tree");
rmSync(out, { recursive: true, force: true });
mkdirSync(tree, { recursive: true });
const tar = execFileSync("git", ["archive", rev, "bridge-js/src"], { cwd: REPO_ROOT, maxBuffer: 1 << 28 });
execFileSync("tar", ["-x", "-C", tree], { input: tar });
const gen = join(REPO_ROOT, "bridge-js", "gen");
if (existsSync(gen)) cpSync(gen, join(tree, "bridge-js", "gen"), { recursive: true });
await buildDist(out, {}, join(tree, "bridge-js", "src"));
// A revision whose main thread fetches its tracker (`../gen/main-core.wasm`
// from the bundle, which esbuild does not copy) finds it beside `base/`.
if (existsSync(join(gen, "main-core.wasm"))) {
  mkdirSync(join(out, "..", "gen"), { recursive: true });
  cpSync(join(gen, "main-core.wasm"), join(out, "..", "gen", "main-core.wasm"));
}
console.log(`bridge-js at ${rev} bundled into ${out}`);
