// reflected-ffi's batched helpers (`ffi.assign / direct / evaluate / gather /
// query`, as coincident 4.1.1 hands them to polyscript) over the bridge: each
// one is ONE synchronous call to a function the compat `Worker` exposes on
// the main thread under FFI_NAME, instead of one round trip per key.
//
// The worker side (ffiHelpers) decides locally when the target is not a
// proxy of a main-thread object, as reflected-ffi does.

/** The sync function name the main side answers the helpers on. */
export const FFI_NAME = "\u0000worker-bridge:ffi";

// reflected-ffi's path syntax: `a.b[0]["c"]` -> a.b.0.c
const BRACKETS = /\[('|")?(.+?)\1\]/g;
const step = (target, key) => target?.[key];
export const query = (target, path) => String(path).replace(BRACKETS, ".$2").split(".").reduce(step, target);

const EVAL_CSP =
  "ffi.evaluate() compiles the function's source on the main thread with Function(), which this page's " +
  "Content-Security-Policy forbids (script-src has no 'unsafe-eval'). Call main-thread functions through " +
  "`window` or expose them with `sync` instead, or allow 'unsafe-eval'";

/** Main thread: the one function every helper calls. */
export function ffiMain(op, target, arg, args) {
  switch (op) {
    case "assign":
      Object.assign(target, arg);
      return undefined;
    case "gather":
      return arg.map((k) => (typeof k === "string" ? query(target, k) : target[k]));
    case "query":
      return query(target, arg);
    case "evaluate": {
      let fn;
      try {
        // eslint-disable-next-line no-new-func
        fn = Function(`return(${arg}).apply(null,arguments)`);
      } catch (e) {
        if (e instanceof EvalError) throw new EvalError(EVAL_CSP, { cause: e });
        throw e;
      }
      return fn(...args);
    }
    default:
      throw new TypeError(`worker-bridge: unknown ffi operation ${String(op)}`);
  }
}

// A function's source as an expression: method shorthand `name(a) {}` has
// no `function` keyword, which `(...)` needs.
function source(fn) {
  const text = String(fn);
  return text.replace(/^(async\s*)?(\bfunction\b)?(.*?)\(/, (all, isAsync, isFunction, name) =>
    name && !isFunction ? `${isAsync || ""}function ${name}(` : all);
}

/**
 * Worker: the helpers. `call(op, target, arg, args)` is the synchronous call
 * into ffiMain; `isProxy` tells proxies of main-thread objects.
 */
export function ffiHelpers(call, isProxy) {
  let direct = null;
  return {
    assign(target, ...sources) {
      if (!isProxy(target)) return Object.assign(target, ...sources);
      call("assign", target, Object.assign({}, ...sources));
      return target;
    },
    // The bridge copies plain data already (docs/pyscript.md); the marker is
    // kept for code that checks it.
    direct(value) {
      if (direct === null) direct = new WeakSet();
      direct.add(value);
      return value;
    },
    evaluate: (fn, ...args) => call("evaluate", null, source(fn), args),
    gather(target, ...keys) {
      if (isProxy(target)) return call("gather", target, keys);
      return keys.map((k) => target[k]);
    },
    query: (target, path) => (isProxy(target) ? call("query", target, path) : query(target, path)),
  };
}
