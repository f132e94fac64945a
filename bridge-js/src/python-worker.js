// The worker script behind MPWorker / PyWorker (python.js): boots MicroPython
// or Pyodide, installs the `pyscript` package, runs the user's script.
//
// Start-up, all through the public bridge API:
//   1. read the start-up data from this worker's URL fragment (python.js puts
//      it there) and begin importing the interpreter's ES module, fetching
//      the script and config.files and importing config.js_modules.worker;
//      then `await bridge()` while those load, and ask the main thread for
//      config.js_modules.main (sync.__wbpy_boot__) if there are any
//   2. load the interpreter, stdout/stderr forwarded line by line to the
//      main thread (sync.__wbpy_out__)
//   3. write config.files and the pyscript package into the interpreter's FS
//   4. report "ready", run the script (top-level await allowed), report "done"
//      or "error" with the Python traceback (sync.__wbpy_event__)
// The worker then stays alive: Python functions assigned to `sync.*`, and
// callbacks handed to the main thread (event listeners, timers) keep working.

import { bridge, convertOutgoing } from "./worker.js";
import { PYSCRIPT_MODULES } from "./pyscript/modules.js";
import { asError } from "./errors.js";
// The rest of the bridge's modules, named here too so that the worker fetches
// its whole module graph in two rounds instead of five (each round is a fetch
// and a parse: tens of ms at start-up on a busy machine). Evaluation order is
// unchanged: worker.js above has evaluated them all by the time these come.
import "./endpoint.js";
import "./wire.js";
import "./refs.js";
import "./proxy.js";
import "./probe.js";
import "./mailbox.js";
import "./sync-proxy.js";
import "./transfer.js";
import "./protocol.js";

const LIB = "/worker_bridge_lib";

class BootError extends Error {}

// The start-up data is known when the page creates the worker, so it comes
// in the worker's URL (its fragment, never sent to a server): the
// interpreter's import and the fetches start here, before the bridge's
// handshake and without a round trip to the page, which may be busy.
const boot = JSON.parse(decodeURIComponent(globalThis.location.hash.slice(1)));
const interpreterModule = import(boot.interpreter);
interpreterModule.catch(() => {});
// The script and config.files, fetched while the interpreter loads.
const fetched = Promise.all([
  fetchText(boot.script, "the Python script"),
  ...boot.files.map((f) => fetchText(f.url, "config.files entry")),
]);
fetched.catch(() => {});
// config.js_modules.worker: imported here, beside the interpreter.
const workerModules = Promise.all(boot.workerModules.map(async ({ url, name }) => {
  try {
    return [name, { ...(await import(url)) }];
  } catch (e) {
    throw new BootError(`config.js_modules.worker: could not import ${url}: ${e && e.message}`);
  }
}));
workerModules.catch(() => {});

const B = await bridge();
const mainSync = B.sync;
const blocking = B.transport !== "async";

// In the async transport a sync call returns a promise; never leave one unhandled.
function notify(name, ...args) {
  try {
    const r = mainSync[name](...args);
    if (r && typeof r.then === "function") r.then(null, (e) => console.error("worker-bridge python:", e));
  } catch (e) {
    console.error("worker-bridge python:", e);
  }
}

const out = (line) => notify("__wbpy_out__", "stdout", line);
const err = (line) => notify("__wbpy_out__", "stderr", line);

async function fetchText(url, what) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new BootError(`could not fetch ${what} ${url}: ${e.message}. Check that the URL is right and served from this origin.`);
  }
  if (!res.ok) {
    throw new BootError(`could not fetch ${what} ${url}: HTTP ${res.status} ${res.statusText}. Check the path (it is resolved against the page's URL).`);
  }
  return res;
}

function mkdirs(FS, path) {
  let cur = "";
  for (const part of path.split("/").filter(Boolean)) {
    cur += "/" + part;
    try {
      FS.mkdir(cur);
    } catch (e) {
      // EEXIST is fine; anything else shows up when the file is written.
    }
  }
}

function writeFile(FS, path, data) {
  const slash = path.lastIndexOf("/");
  if (slash > 0) mkdirs(FS, path.slice(0, slash));
  FS.writeFile(path, data);
}

// Python functions exposed with `sync.name = f`. Their arguments and results
// that are Python lists/dicts/tuples/bytes cross as plain JS values (the
// codec asks `interp.convert`, see convertOutgoing below), the way PyScript
// delivers them. The main thread learns each exposed name, so its calls can
// wait for the script to define it.
function pythonSync(result) {
  return new Proxy(Object.create(null), {
    get(_, name) {
      if (typeof name !== "string" || name === "then") return undefined;
      return mainSync[name];
    },
    set(_, name, fn) {
      if (typeof name !== "string") throw new TypeError("sync names must be strings");
      if (typeof fn !== "function") throw new TypeError(`sync.${name} must be a function`);
      mainSync[name] = result === null ? fn : (...args) => result(fn(...args));
      notify("__wbpy_exposed__", name);
      return true;
    },
    has(_, name) {
      return name in mainSync;
    },
  });
}

async function loadMicroPython(url) {
  const mod = await interpreterModule;
  const load = mod.loadMicroPython ?? globalThis.loadMicroPython;
  if (typeof load !== "function") throw new BootError(`${url} does not export loadMicroPython; point the interpreter option at micropython.mjs of @micropython/micropython-webassembly-pyscript`);
  const mp = await catchingJsExceptions(() => load({ stdout: out, stderr: err, linebuffer: true }));
  skipProxyInstanceofWalks(mp);
  fewerRoundTrips(mp);
  const JsException = raiseJsExceptionsInPython(mp);
  return {
    FS: mp.FS,
    register: (name, obj) => mp.registerJsModule(name, obj),
    run: (code) => mp.runPythonAsync(code),
    runSync: (code) => mp.runPython(code),
    convert: microPythonConvert(mp),
    result: null,
    JsException,
  };
}

// MicroPython 1.27 calls JS (a `window`/`document` operation, any JS
// function) from C without a JS try/catch, so a JS exception unwinds through
// the interpreter: Python cannot catch it and the script ends. Here every
// import through which MicroPython calls JS is wrapped while the wasm module
// is instantiated; on a JS exception the wrapper makes MicroPython raise
// `JsException` instead (raiseJsExceptionsInPython). Its exceptions are
// longjmps (thrown numbers): those pass untouched.
const MP_JS_CALLS = ["call0", "call0_kwarg", "call1", "call2", "calln", "calln_kwarg", "has_attr", "js_get_iter",
  "js_iter_next", "js_reflect_construct", "js_subscr_load", "js_subscr_store", "lookup_attr", "store_attr"];
let raiseInPython = null;
const wrapped = new WeakSet();

function wrapImports(imports) {
  const env = imports && imports.env;
  if (!env || wrapped.has(env)) return;
  wrapped.add(env);
  originals = { call0: env.call0, lookup_attr: env.lookup_attr };
  for (const name of MP_JS_CALLS) {
    let f = env[name];
    if (typeof f !== "function") continue;
    if (name === "lookup_attr" && f.length === 3) f = lookupAttr(f);
    else if (name === "js_iter_next" && f.length === 2) f = iterNext(f);
    else if (Object.hasOwn(CALL_OUT, name) && f.length === CALL_OUT[name] + 1) f = callFunction(f, name === "call0", CALL_OUT[name]);
    env[name] = function (a, b, c, d, e, g, h, i) {
      try {
        return f.call(this, a, b, c, d, e, g, h, i);
      } catch (error) {
        if (typeof error === "number" || raiseInPython === null) throw error;
        raiseInPython(error); // longjmps into Python's `except` (throws a number)
        throw error;
      }
    };
  }
}

async function catchingJsExceptions(load) {
  const { instantiate, instantiateStreaming } = WebAssembly;
  WebAssembly.instantiate = function (source, imports, ...rest) {
    wrapImports(imports);
    return instantiate.call(this, source, imports, ...rest);
  };
  if (typeof instantiateStreaming === "function") {
    WebAssembly.instantiateStreaming = function (source, imports, ...rest) {
      wrapImports(imports);
      return instantiateStreaming.call(this, source, imports, ...rest);
    };
  }
  try {
    return await load();
  } finally {
    WebAssembly.instantiate = instantiate;
    if (typeof instantiateStreaming === "function") WebAssembly.instantiateStreaming = instantiateStreaming;
  }
}

// Python's side of the above: `JsException` (a subclass of jsffi.JsException,
// with Pyodide's shape: `str(e)` is "Name: message", `e.name`, `e.message`,
// `e.js_error`), and an object whose `__iter__` raises the pending one. The
// interpreter's C function that starts an iteration has no exception handler
// of its own, so calling it from the wrapper raises into the Python code that
// made the JS call. Returns the class (for pyscript.ffi).
function raiseJsExceptionsInPython(mp) {
  let pending = null;
  mp.registerJsModule("_wb_pending", {
    take() {
      const e = pending;
      pending = null;
      const isObj = e !== null && (typeof e === "object" || typeof e === "function");
      return [e, isObj ? String(e.name ?? "Error") : "Error", isObj ? String(e.message ?? e) : String(e)];
    },
  });
  // Built in a function, so that nothing is left in the script's globals.
  mp.runPython(`\
def _wb_make():
    import jsffi, _wb_pending

    class JsException(jsffi.JsException):
        def __init__(self, error, name, message):
            super().__init__(name + ": " + message)
            self.js_error = error
            self.name = name
            self.message = message

    class Raiser:
        def __iter__(self):
            e = _wb_pending.take()
            raise JsException(e[0], e[1], e[2])

    return [Raiser(), JsException]
_wb_made = _wb_make()
del _wb_make
`);
  const [raiser, cls] = mp.PyProxy.toJs(mp.globals.get("_wb_made"));
  mp.runPython("del _wb_made\n");
  const M = mp._module;
  if (!raiser || typeof raiser._ref !== "number" || typeof M?.ccall !== "function") return cls ?? null;
  raiseInPython = (error) => {
    pending = error;
    M.ccall("proxy_c_to_js_get_iter", "number", ["number"], [raiser._ref]);
  };
  return cls;
}

// Round trips of a page function call (docs/python.md "How it works"). For a
// method call `document.createElement("div")` MicroPython 1.27 reads the
// attribute (`lookup_attr`), tests the function twice with `"_ref" in f` (is
// it one of MicroPython's own function proxies? once to convert it, once to
// decide whether to bind `self`), then calls `f.call(self, ...args)`, a read
// of `call` and a call: on a bridge proxy each is a blocking request, 5 in
// all. A bridge proxy is never one of MicroPython's proxies (a main-thread
// object that has a `_ref` belongs to another interpreter), so for bridge
// proxies the `_ref` tests are answered here, and the call goes straight to
// the function: a read and a call, 2. Everything else takes MicroPython's own
// path. MicroPython's JS-side tables (`proxy_js_ref`, globals of its
// micropython.mjs) are used the way its own conversion does; fewerRoundTrips
// checks that they are there and behave so, or leaves the fast path off.
let originals = null; // MicroPython's lookup_attr and call0 (wrapImports)
let fast = null; // { M, kinds: [existing, fresh] } once fewerRoundTrips checked the tables
const SLOT = { ref: 0, value: undefined }; // a slot of proxy_js_ref whose function returns SLOT.value
let callTarget = null, callVia = 0, callResult; // callFunction -> forward
// MicroPython's call imports: where `out` is in their arguments.
const CALL_OUT = { call0: 1, call0_kwarg: 5, call1: 3, call2: 4, calln: 4, calln_kwarg: 7 };

function fewerRoundTrips(mp) {
  const G = globalThis;
  const M = mp._module;
  if (originals === null || typeof originals.call0 !== "function" || typeof originals.lookup_attr !== "function" ||
    !Array.isArray(G.proxy_js_ref) || !(G.proxy_js_ref_map instanceof Map) || typeof G.proxy_js_ref_next !== "number" ||
    typeof M?.setValue !== "function" || typeof M.getValue !== "function" || typeof M.UTF8ToString !== "function" ||
    typeof M._malloc !== "function") return;
  // Two slots of our own, never handed to MicroPython's C side (so never freed).
  SLOT.ref = G.proxy_js_ref.length;
  G.proxy_js_ref.push(() => SLOT.value, forward);
  // MicroPython's kinds for a JS object it registers (new) and one it knows:
  // read from its own conversion of a fresh object, done twice.
  const out = M._malloc(12);
  const probe = {};
  SLOT.value = probe;
  originals.call0(SLOT.ref, out);
  const fresh = M.getValue(out, "i32"), id = M.getValue(out + 4, "i32");
  originals.call0(SLOT.ref, out);
  const existing = M.getValue(out, "i32");
  SLOT.value = undefined;
  if (G.proxy_js_ref[id] === probe && M.getValue(out + 4, "i32") === id && fresh !== existing) {
    fast = { M, kinds: [existing, fresh] };
  }
  if (G.proxy_js_ref[id] === probe) {
    G.proxy_js_ref[id] = undefined;
    G.proxy_js_ref_map.delete(probe);
    if (id < G.proxy_js_ref_next) G.proxy_js_ref_next = id;
  }
  M._free(out);
}

// `value` into MicroPython's `out`, as its proxy_convert_js_to_mp_obj_jsside
// does, without the `"_ref" in value` request for a bridge proxy.
function toPython(value, out) {
  if (!B.isWindowProxy(value)) {
    SLOT.value = value;
    try {
      return originals.call0(SLOT.ref, out);
    } finally {
      SLOT.value = undefined;
    }
  }
  const G = globalThis;
  let id = G.proxy_js_ref_map.get(value);
  const known = id !== undefined;
  if (!known) {
    const refs = G.proxy_js_ref;
    let next = G.proxy_js_ref_next;
    while (next < refs.length && refs[next] !== undefined) next++;
    id = next;
    refs[id] = value;
    G.proxy_js_ref_next = id + 1;
    G.proxy_js_ref_map.set(value, id);
  }
  fast.M.setValue(out + 4, id, "i32");
  fast.M.setValue(out, fast.kinds[known ? 0 : 1], "i32");
}

// lookup_attr(jsref, name, out): 0 absent, 1 a value, 2 a function to bind.
function lookupAttr(original) {
  return function (jsref, str, out) {
    const base = fast === null ? undefined : globalThis.proxy_js_ref[jsref];
    if (!B.isWindowProxy(base)) return original(jsref, str, out);
    const attr = fast.M.UTF8ToString(str);
    const value = base[attr];
    if (value === undefined && !(attr in base)) return 0;
    toPython(value, out);
    return typeof value !== "function" || (!B.isWindowProxy(value) && "_ref" in value) ? 1 : 2;
  };
}

// call0(f, out), callN(f, via_call, ...args, out): MicroPython converts the
// arguments and calls `forward` (the second slot) with them, which calls the
// bridge proxy with `this` (via_call: the first argument) and no read of
// `f.call`; a function result goes back through toPython.
function callFunction(original, noVia, outAt) {
  return function (...args) {
    const f = fast === null ? undefined : globalThis.proxy_js_ref[args[0]];
    if (typeof f !== "function" || !B.isWindowProxy(f)) return original(...args);
    callTarget = f;
    callVia = noVia ? 0 : args[1];
    args[0] = SLOT.ref + 1;
    if (!noVia) args[1] = 0;
    callResult = undefined;
    try {
      original(...args);
    } finally {
      callTarget = null;
    }
    const r = callResult;
    callResult = undefined;
    if (r !== undefined) toPython(r, args[outAt]);
  };
}

// js_iter_next(iterator, out): false when done. MicroPython reads the
// iterator's `next` at every step; JS's own for-of reads it once, at the
// start: so does this for bridge proxies (a round trip less per element).
const NEXT = new WeakMap();
function iterNext(original) {
  return function (ref, out) {
    const it = fast === null ? undefined : globalThis.proxy_js_ref[ref];
    if (!B.isWindowProxy(it)) return original(ref, out);
    let next = NEXT.get(it);
    if (next === undefined) {
      next = it.next;
      NEXT.set(it, next);
    }
    const ret = Reflect.apply(next, it, []);
    if (ret.done) return false;
    toPython(ret.value, out);
    return true;
  };
}

function forward(...args) {
  const f = callTarget, via = callVia;
  callTarget = null;
  const r = via ? Reflect.apply(f, args[0], args.slice(1)) : Reflect.apply(f, undefined, args);
  if (typeof r === "function" && B.isWindowProxy(r)) {
    callResult = r; // converted by callFunction, without the `_ref` request
    return undefined;
  }
  return r;
}

// What crosses by value, as PyScript's MicroPython transform
// (`PyProxy.toJs`) gives it: list/tuple -> Array, dict -> plain object (deep);
// and bytes/bytearray/memoryview -> Uint8Array. Anything else (class
// instances, sets, ...) stays a reference.
function microPythonConvert(mp) {
  const PyProxy = mp.PyProxy;
  // base64 through binascii: C speed, where iterating a bytes proxy from JS
  // costs a call per byte.
  mp.runPython("def _wb_b64(x):\n    import binascii\n    return binascii.b2a_base64(x).decode() if isinstance(x, (bytes, bytearray, memoryview)) else None\n");
  const b64 = mp.globals.get("_wb_b64");
  mp.runPython("del _wb_b64\n");
  return (x) => {
    if (B.isWindowProxy(x) || !(x instanceof PyProxy)) return x;
    const c = PyProxy.toJs(x);
    if (c !== x) return c;
    const s = b64(x);
    if (typeof s !== "string") return x;
    const bin = atob(s);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes;
  };
}

// config.packages (python.js checked them). loadPackage throws for a name
// its index does not know, and for a download or install that fails it
// only says "Failed to load <names>" and logs why: both stop the start.
async function loadPackages(py, packages) {
  const why = [];
  let failed = null;
  try {
    await py.loadPackage(packages, {
      messageCallback: (m) => {
        if (String(m).startsWith("Failed to load ")) failed = String(m);
      },
      errorCallback: (m) => why.push(String(m)),
    });
  } catch (e) {
    failed = e && e.message;
  }
  if (failed !== null) throw new BootError(`config.packages: ${[failed, ...why].join(" ")}`);
}

async function loadPyodide(url) {
  const mod = await interpreterModule;
  const load = mod.loadPyodide ?? globalThis.loadPyodide;
  if (typeof load !== "function") throw new BootError(`${url} does not export loadPyodide; point the interpreter option at pyodide.mjs of the pyodide package`);
  const indexURL = new URL(".", url).href;
  const py = await load({ indexURL, stdout: out, stderr: err, packages: [] });
  if (boot.packages.length !== 0) await loadPackages(py, boot.packages);
  keepBorrowedCallables(py);
  raiseErrorsOnly(py);
  const PyProxy = py.ffi?.PyProxy;
  return {
    FS: py.FS,
    register: (name, obj) => py.registerJsModule(name, obj),
    run: (code, filename) => py.runPythonAsync(code, { filename }),
    runSync: (code) => py.runPython(code),
    JsException: null, // pyodide.ffi.JsException
    convert: pyodideConvert(PyProxy),
    // A coroutine (an `async def` exposed through sync): Pyodide's proxy of
    // it only supports `then` (reading `.type` throws); hand the bridge a
    // real Promise.
    result: (x) => {
      if (!PyProxy || !(x instanceof PyProxy)) return x;
      try {
        x.type; // eslint-disable-line no-unused-expressions
        return x;
      } catch {
        return Promise.resolve(x);
      }
    },
  };
}

// A page call that throws (or whose awaited Promise rejects) throws the
// decoded reason in the worker; Pyodide raises it as `JsException` with its
// name and message only if it has name, message and stack, and otherwise
// wraps it in "A value of type object ... was thrown as an error!". So its
// handler gets an Error (asError): a DOMException without a stack, a plain
// object, a string raise with their own name and message.
function raiseErrorsOnly(py) {
  const M = py._module;
  const handle = M?.handle_js_error;
  if (typeof handle !== "function") return;
  M.handle_js_error = function (e) {
    const raisable = typeof e === "string" || (e !== null && typeof e === "object" && !(e instanceof Error && typeof e.stack === "string"));
    return handle.call(this, raisable ? asError(e) : e);
  };
}

// What crosses by value, as PyScript's Pyodide transform gives it
// (`toJs({ dict_converter: Object.fromEntries })`): dict -> plain object,
// list/tuple -> Array, set -> Set (deep); bytes/bytearray/memoryview ->
// typed array. Other Python objects stay references.
const PYODIDE_BY_VALUE = new Set(["dict", "list", "tuple", "set", "frozenset", "bytes", "bytearray", "memoryview"]);
const DICT = { dict_converter: Object.fromEntries };
function pyodideConvert(PyProxy) {
  if (typeof PyProxy !== "function") return null;
  return (x) => {
    if (B.isWindowProxy(x) || !(x instanceof PyProxy)) return x;
    let type;
    try {
      type = x.type; // (a coroutine's proxy throws here; reading `then` costs a Python exception)
    } catch {
      return x;
    }
    return PYODIDE_BY_VALUE.has(type) ? x.toJs(DICT) : x;
  };
}

// MicroPython converts every JS value that enters Python with
// `x instanceof PyProxy` and `x instanceof PyProxyThenable`. On a bridge proxy
// each `instanceof` walks the main-thread prototype chain, one blocking
// getPrototypeOf per link (a dozen round trips for `document.body`). A bridge
// proxy is never one of MicroPython's own proxies, so answer those two checks
// locally for bridge proxies; everything else keeps the ordinary semantics.
function skipProxyInstanceofWalks(mp) {
  const classes = [mp.PyProxy];
  try {
    // PyProxyThenable is not exported; a Python generator converted to JS is one.
    mp.runPython("def _wb_gen():\n    yield\n_wb_thenable = _wb_gen()\n");
    const thenable = mp.globals.get("_wb_thenable");
    mp.runPython("del _wb_gen, _wb_thenable\n");
    if (thenable && typeof thenable === "object") classes.push(Object.getPrototypeOf(thenable).constructor);
  } catch {
    // Only slower without it.
  }
  const ordinary = Function.prototype[Symbol.hasInstance];
  for (const C of classes) {
    if (typeof C !== "function" || Object.hasOwn(C, Symbol.hasInstance)) continue;
    Object.defineProperty(C, Symbol.hasInstance, {
      value(x) {
        return B.isWindowProxy(x) ? false : ordinary.call(this, x);
      },
      configurable: true,
    });
  }
}

// Pyodide destroys the proxy of a Python callable passed as an argument to a
// JS function when that call returns ("This borrowed proxy was automatically
// destroyed..."). Across the bridge the callable is exported to the main
// thread, which calls it later (timers, event listeners), so, like PyScript
// workers, keep borrowed *callables* alive and let the garbage collector free
// them once nothing references them any more (the bridge drops its reference
// when the main thread releases the function). Other borrowed values, and an
// explicit `proxy.destroy()`, behave as in Pyodide. Returns false when this
// Pyodide lacks the internals the patch needs (then the FAQ error stays).
function keepBorrowedCallables(py) {
  const M = py._module;
  if (!M || typeof M.pyproxy_destroy !== "function" || typeof M.PyProxy_getAttrsQuiet !== "function" || typeof M.gc_register_proxy !== "function") {
    console.warn("worker-bridge python: this Pyodide version lacks the internals to keep borrowed callables alive; use pyscript.ffi.create_proxy for callbacks");
    return false;
  }
  const destroy = M.pyproxy_destroy;
  M.pyproxy_destroy = function (px, msg, destroyRoundtrip) {
    if (!destroyRoundtrip && typeof px === "function") {
      const shared = M.PyProxy_getAttrsQuiet(px)?.shared;
      if (shared && shared.ptr) {
        if (!shared.gcRegistered) M.gc_register_proxy(shared);
        return;
      }
    }
    return destroy.call(this, px, msg, destroyRoundtrip);
  };
  return true;
}

function errorInfo(e) {
  // Both interpreters throw a PythonError whose message is the traceback.
  if (e && e.name === "PythonError") {
    const tb = String(e.message);
    const last = tb.trim().split("\n").pop() || "";
    return { type: e.type || last.split(":")[0], traceback: tb };
  }
  return null;
}

let phase = "boot";
try {
  // config.js_modules.main cross by reference, so through the bridge.
  const mainModules = boot.mainModules ? await mainSync.__wbpy_boot__() : null;
  const interp = boot.kind === "pyodide" ? await loadPyodide(boot.interpreter) : await loadMicroPython(boot.interpreter);
  const jsModules = Object.assign(Object.create(null), mainModules, Object.fromEntries(await workerModules));

  // The user's files and the pyscript package.
  const [scriptRes, ...fileRes] = await fetched;
  for (let i = 0; i < boot.files.length; i++) {
    writeFile(interp.FS, boot.files[i].dest, new Uint8Array(await fileRes[i].arrayBuffer()));
  }
  const code = await scriptRes.text();
  for (const [path, src] of Object.entries(PYSCRIPT_MODULES)) writeFile(interp.FS, `${LIB}/${path}`, src);

  const window = B.window;
  convertOutgoing(interp.convert);
  const pySync = pythonSync(interp.result);
  interp.register("_worker_bridge", {
    window,
    document: blocking ? window.document : null,
    sync: pySync,
    blocking,
    transport: B.transport,
    implementation: boot.kind,
    JsException: interp.JsException,
    js_modules: jsModules,
    js_module_names: Object.keys(jsModules),
  });
  interp.runSync(`import sys\nsys.path.insert(0, ${JSON.stringify(LIB)})\n`);

  phase = "run";
  notify("__wbpy_event__", "ready", { transport: B.transport, native: B.native });
  const file = new URL(boot.script).pathname.split("/").pop() || "<script>";
  await interp.run(code, file);
  notify("__wbpy_event__", "done", null);
} catch (e) {
  const py = errorInfo(e);
  if (py) {
    notify("__wbpy_event__", "error", { ...py, phase });
  } else {
    const message = e instanceof BootError
      ? e.message
      : `${phase === "boot" ? "starting the interpreter failed" : "the script failed"}: ${e && e.stack ? e.stack : e}`;
    notify("__wbpy_event__", "error", { message, phase });
  }
}
