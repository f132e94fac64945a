// Writes a copy of bridge-js (src, gen, pkg) whose mailbox.js counts why each
// wait ended as it did, for bundle-variants.mjs's `dircount:` variants
// (count-patch.js prints the counts beside the Atomics ones): a spin that got
// its frame, ran out of time, or was cut by the back-off ("calm") or by
// spinOn's reasons, and every crowded sign with its cause. Two switches turn
// on the wait rules tried in docs/benchmarks.md, "A quiet machine (stop 19)":
//
//   node benches/browser/micro/why-patch.mjs <out dir> [--skip-parked] [--running-ok]
//   node benches/browser/bundle-variants.mjs --variants dircount:/benches/browser/.build/why/bridge-js/src ...
//
// --skip-parked  a woken peer that is still parked is no crowded sign for a
//                worker (its peer, the page, waits in waitAsync: an event-loop task)
// --running-ok   a peer that runs (awake, not spinning) keeps a spin going to
//                its time limit instead of stallMs
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(import.meta.url), "../../../..");
const [out, ...flags] = process.argv.slice(2);
if (!out) throw new Error("usage: why-patch.mjs <out dir> [--skip-parked] [--running-ok]");
const dir = join(resolve(out), "bridge-js");
rmSync(dir, { recursive: true, force: true });
for (const d of ["src", "gen", "pkg"]) cpSync(join(ROOT, "bridge-js", d), join(dir, d), { recursive: true });

const file = join(dir, "src", "mailbox.js");
let s = readFileSync(file, "utf8");
const patch = (from, to) => {
  if (!s.includes(from)) throw new Error(`why-patch: mailbox.js no longer has:\n${from}`);
  s = s.replace(from, to);
};
patch("const pause = typeof Atomics.pause", `const W = (globalThis.__wbWhy ??= {});
const why = (k) => { W[k] = (W[k] ?? 0) + 1; };
const SKIP_PARKED = ${flags.includes("--skip-parked")}, RUNNING_OK = ${flags.includes("--running-ok")};
const IN_WORKER = typeof window === "undefined";
const pause = typeof Atomics.pause`);
patch(`    if (consumer) this.spinBegin(t);`, `    if (consumer && t < Mailbox.calmAt) why("wait: calm at start");
    if (consumer) this.spinBegin(t);`);
// (Anchors name no property that dist renames: tests/bundlers checks this file too.)
patch("if (Atomics.load(hdr, slot) !== seen) {", `if (Atomics.load(hdr, slot) !== seen) {
          if (consumer) why("wait: spin got it");`);
patch(`      if (consumer && !this.spinOn(t)) break;
    }`, `      if (consumer && !this.spinOn(t)) break;
    }
    if (consumer && t >= spinEnd && spinEnd !== t) why("wait: spin time over");`);
patch(`    if (t < Mailbox.calmAt) return false;`, `    if (t < Mailbox.calmAt) { why("spinOn: calm"); return false; }`);
patch(`      if (since < 2 * Mailbox.wakeGraceMs) Mailbox.crowded(t);
      return false;`, `      if (since < 2 * Mailbox.wakeGraceMs && !(SKIP_PARKED && IN_WORKER)) { why("spinOn: woken peer late, CROWDED"); Mailbox.crowded(t); }
      else why("spinOn: parked peer");
      return false;`);
patch(`< Mailbox.stallMs) return true;`, `< Mailbox.stallMs) return true;
    if (RUNNING_OK && (s & SPINNING) === 0) return true;`);
patch(`    if ((s & SPINNING) !== 0) Mailbox.crowded(t);
    return false;`, `    if ((s & SPINNING) !== 0) { why("spinOn: still spinning peer, CROWDED"); Mailbox.crowded(t); }
    else why("spinOn: still running peer");
    return false;`);
writeFileSync(file, s);
console.log(`wrote ${dir} (${flags.join(" ") || "rules as shipped"})`);
