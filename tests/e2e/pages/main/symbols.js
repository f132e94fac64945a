// Page side of the symbols case of tests/e2e/proxy.test.mjs: fixtures with
// symbol keys and values for the worker to read (workers/proxy.js).
const unique = Symbol("mainUnique");
let kept;

export function setup() {
  window.mainUnique = unique;
  window[Symbol.for("polyscript.js_modules")] = { mod: "a js module" };
  window.symbolHolder = {
    registered: Symbol.for("shared"),
    unique,
    [unique]: "by the main key",
    isUnique: (s) => s === unique,
    keep: (s) => {
      kept = s;
    },
    kept: () => kept,
  };
}
