// The Python layer: `MPWorker` (MicroPython) and `PyWorker` (Pyodide).
//
//   import { MPWorker } from "worker-bridge/python";
//   const worker = new MPWorker("./main.py", { config: { files: { "./data.txt": "data.txt" } } });
//   worker.sync.greet = (name) => `hello ${name}`;   // Python: `sync.greet("x")`
//   await worker.ready;                               // the interpreter is up
//   await worker.sync.python_function();              // what Python exposed with `sync.python_function = f`
//   await worker.done;                                // the script finished (rejects on a Python error)
//
// Inside the worker, Python does `from pyscript import window, document, sync, ffi`
// (see python-worker.js and pyscript/modules.js). Everything crosses through the
// public BridgeWorker API: the worker gets its start-up data in its URL's
// fragment, asks the main thread for config.js_modules.main and reports
// stdout and its lifecycle through a few reserved `sync` names.

import { BridgeWorker } from "./main.js";

const WORKER_URL = new URL("./python-worker.js", import.meta.url);

/** Where the interpreters are found when the `interpreter` option is omitted (the repository layout). */
export const DEFAULT_INTERPRETERS = Object.freeze({
  micropython: new URL("../../node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs", import.meta.url).href,
  pyodide: new URL("../../node_modules/pyodide/pyodide.mjs", import.meta.url).href,
});

// Reserved names on the main side's `sync` (the worker calls them).
const BOOT = "__wbpy_boot__";
const OUT = "__wbpy_out__";
const EVENT = "__wbpy_event__";
const EXPOSED = "__wbpy_exposed__";
const RESERVED = new Set([BOOT, OUT, EVENT, EXPOSED]);

/** A Python exception that ended the script. `message` is the traceback; its last line names the error. */
export class PythonError extends Error {
  constructor(type, traceback) {
    super(traceback.replace(/\s+$/, ""));
    this.name = "PythonError";
    /** The Python exception class name, e.g. "NameError". */
    this.type = type;
  }
}

function baseURL() {
  return globalThis.document?.baseURI ?? globalThis.location?.href;
}

function resolve(url, what) {
  try {
    return new URL(String(url), baseURL()).href;
  } catch (e) {
    throw new TypeError(`${what}: ${JSON.stringify(String(url))} is not a valid URL`, { cause: e });
  }
}

// config.files as PyScript has it: { "url to fetch": "path in the FS" }; a
// destination ending in "/" gets the URL's file name appended.
function normalizeFiles(files, who) {
  if (files == null) return [];
  if (typeof files !== "object") throw new TypeError(`${who}: config.files must be an object { "url": "destination path" }`);
  return Object.entries(files).map(([from, to]) => {
    const url = resolve(from, `${who}: config.files`);
    let dest = String(to ?? "");
    if (dest === "" || dest.endsWith("/")) dest += new URL(url).pathname.split("/").pop();
    return { url, dest };
  });
}

// config.packages: Pyodide loads them before the script runs
// (pyodide.loadPackage: names from Pyodide's own package index beside the
// interpreter, or URLs of wheels, resolved here against the page).
// MicroPython's would need mip and micropython-lib's index: refused here.
function normalizePackages(packages, who, kind) {
  if (packages == null) return [];
  if (!Array.isArray(packages) || packages.some((p) => typeof p !== "string" || p === "")) {
    throw new TypeError(`${who}: config.packages must be an array of package names or wheel URLs, e.g. ["numpy"]`);
  }
  if (packages.length !== 0 && kind === "micropython") {
    throw new TypeError(`${who}: config.packages is not supported for MicroPython (PyScript installs them with mip from micropython-lib); ` +
      `put the modules' .py files in config.files instead, e.g. { "./mymodule.py": "./mymodule.py" }`);
  }
  return packages.map((p) => (p.includes("/") || p.endsWith(".whl") ? resolve(p, `${who}: config.packages`) : p));
}

// config.js_modules.main / .worker as PyScript has them: { "url": "name" }.
function jsModuleList(modules, who, where) {
  if (modules == null) return [];
  if (typeof modules !== "object") throw new TypeError(`${who}: config.js_modules.${where} must be an object { "url": "module name" }`);
  return Object.entries(modules).map(([url, name]) => {
    if (typeof name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new TypeError(`${who}: config.js_modules.${where}: ${JSON.stringify(name)} is not a valid Python module name`);
    }
    return { url: resolve(url, `${who}: config.js_modules.${where}`), name };
  });
}

// A main-thread JS module as Python sees it: an object of the module's
// exports, read live (a getter per export), sent by reference (not a plain
// object, so the codec does not copy it).
class JsModule {}

// The page imports config.js_modules.main (a ".css" URL becomes a stylesheet
// link, as in PyScript); resolves to { name: JsModule }.
function importMainModules(list, who) {
  const p = Promise.all(list.map(async ({ url, name }) => {
    if (/\.css(?:[?#]|$)/.test(url)) {
      const doc = globalThis.document;
      if (doc && !doc.querySelector(`link[rel="stylesheet"][href="${CSS.escape(url)}"]`)) {
        const link = doc.createElement("link");
        link.rel = "stylesheet";
        link.href = url;
        doc.head.append(link);
      }
      return null;
    }
    let ns;
    try {
      ns = await import(url);
    } catch (e) {
      throw new Error(`${who}: config.js_modules.main: could not import ${url}: ${e && e.message}`, { cause: e });
    }
    const mod = new JsModule();
    for (const key of Object.keys(ns)) {
      Object.defineProperty(mod, key, { get: () => ns[key], enumerable: true });
    }
    return [name, mod];
  })).then((entries) => Object.fromEntries(entries.filter((e) => e !== null)));
  p.catch(() => {}); // reported through the worker's start-up (ready/done reject)
  return p;
}

class PythonWorker extends BridgeWorker {
  constructor(kind, url, options = {}) {
    const who = kind === "micropython" ? "MPWorker" : "PyWorker";
    const prefix = kind === "micropython" ? "mpy" : "py";
    if (url === undefined || url === null || url === "") {
      throw new TypeError(`${who}: the first argument must be the URL of a Python script, e.g. new ${who}("./main.py")`);
    }
    const {
      config = {},
      interpreter = DEFAULT_INTERPRETERS[kind],
      onStdout = null,
      onStderr = null,
      serviceWorker,
      timeout,
      reentrant,
      ...rest
    } = options;
    if (typeof config !== "object" || config === null) {
      throw new TypeError(`${who}: config must be an object (PyScript's config: { files: {...} })`);
    }
    const mainList = jsModuleList(config.js_modules?.main, who, "main");
    const boot = {
      kind,
      script: resolve(url, `${who} script`),
      interpreter: resolve(interpreter, `${who}: the interpreter option`),
      files: normalizeFiles(config.files, who),
      packages: normalizePackages(config.packages, who, kind),
      workerModules: jsModuleList(config.js_modules?.worker, who, "worker"),
      mainModules: mainList.length > 0, // then the worker asks for them (sync.__wbpy_boot__)
    };
    // config.js_modules.main: imported here, handed to Python by reference.
    const mainModules = importMainModules(mainList, who);
    // The rest of the start-up data goes in the worker's URL fragment: the
    // worker starts importing the interpreter as soon as its script runs,
    // before the bridge's handshake (python-worker.js).
    const workerURL = new URL(WORKER_URL);
    workerURL.hash = encodeURIComponent(JSON.stringify(boot));
    super(workerURL, { ...rest, type: "module", serviceWorker, timeout, reentrant });

    this.kind = kind;
    this.prefix = prefix;
    const bridgeReady = this.ready;
    /** The bridge handshake (the worker script started); `ready` waits for the interpreter too. */
    this.bridgeReady = bridgeReady;
    let readyOk, readyFail, doneOk, doneFail;
    this.ready = new Promise((ok, fail) => { readyOk = ok; readyFail = fail; });
    this.done = new Promise((ok, fail) => { doneOk = ok; doneFail = fail; });
    // A page that awaits neither promise must not see an "unhandled rejection":
    // the error is reported on the console already.
    this.ready.catch(() => {});
    this.done.catch(() => {});
    bridgeReady.then(null, (e) => {
      const err = new Error(`${who}: the worker did not start: ${e.message}`, { cause: e });
      readyFail(err);
      doneFail(err);
      finished(this);
    });

    const out = (stream, line) => {
      const cb = stream === "stderr" ? onStderr : onStdout;
      if (typeof cb === "function") cb(line);
      else if (stream === "stderr") console.error(`[${prefix}] ${line}`);
      else console.log(`[${prefix}] ${line}`);
    };

    // Calls into Python wait until the script exposed that name (or finished),
    // so `await worker.sync.fn()` right after `new MPWorker(...)` works.
    this._exposed = new Set();
    this._waiting = new Map(); // name -> [resolve]
    this._finished = false;
    const release = (name) => {
      const list = this._waiting.get(name);
      if (list) {
        this._waiting.delete(name);
        for (const r of list) r();
      }
    };
    const releaseAll = () => {
      this._finished = true;
      for (const name of [...this._waiting.keys()]) release(name);
    };

    const bridgeSync = this.sync;
    bridgeSync[BOOT] = () => mainModules;
    bridgeSync[OUT] = out;
    bridgeSync[EXPOSED] = (name) => {
      this._exposed.add(name);
      release(name);
    };
    const script = boot.script;
    running.add(this);
    bridgeSync[EVENT] = (type, info) => {
      if (type === "ready") {
        readyOk();
        dispatch(`${prefix}:ready`, this, script);
      } else if (type === "done") {
        releaseAll();
        doneOk();
        dispatch(`${prefix}:done`, this, script);
        finished(this);
      } else if (type === "error") {
        // A Python exception (info.type set) or a start-up failure (info.phase).
        releaseAll();
        const err = info.type ? new PythonError(info.type, info.traceback) : new Error(`${who}: ${info.message}`);
        console.error(info.type ? `[${prefix}] ${err.message}` : err.message);
        if (info.phase === "boot") readyFail(err);
        else readyOk();
        doneFail(err);
        dispatch(`${prefix}:error`, this, script, err);
        finished(this);
      }
    };
    this.done.then(null, releaseAll);
    this._abort = (why) => {
      const err = new Error(`${who}: ${why}`);
      readyFail(err);
      doneFail(err);
      finished(this);
    };

    this.sync = new Proxy(bridgeSync, {
      get: (target, name) => {
        if (typeof name !== "string" || name === "then") return undefined;
        if (RESERVED.has(name)) return undefined;
        return async (...args) => {
          if (!this._exposed.has(name) && !this._finished) {
            await new Promise((r) => {
              let list = this._waiting.get(name);
              if (!list) this._waiting.set(name, (list = []));
              list.push(r);
            });
          }
          return target[name](...args);
        };
      },
      set: (target, name, fn) => {
        if (typeof name === "string" && RESERVED.has(name)) throw new TypeError(`${who}: sync.${name} is reserved`);
        target[name] = fn;
        return true;
      },
      has: (target, name) => !RESERVED.has(name) && Reflect.has(target, name),
      ownKeys: (target) => Reflect.ownKeys(target).filter((k) => !RESERVED.has(k)),
      deleteProperty: (target, name) => RESERVED.has(name) ? false : Reflect.deleteProperty(target, name),
      getOwnPropertyDescriptor: (target, name) => RESERVED.has(name) ? undefined : Reflect.getOwnPropertyDescriptor(target, name),
    });
  }

  /** Stops the worker; `ready`/`done`, if still pending, reject, as do pending calls. */
  terminate() {
    super.terminate();
    // Settles only what is still pending: a finished script stays resolved.
    this._abort("the worker was terminated (terminate()) before the script finished");
  }
}

// Lifecycle events as PyScript dispatches them: on the document, bubbling (so
// listeners on `document` and on `window` both see them), `detail.worker`
// true (PyScript's "dispatched from a worker"); `detail.wrap` is the
// MPWorker / PyWorker, `detail.script` the script's URL, `detail.error` the
// error of `mpy:error` / `py:error`.
function dispatch(type, wrap, script, error) {
  const target = globalThis.document ?? globalThis;
  if (typeof target.dispatchEvent !== "function" || typeof CustomEvent !== "function") return;
  const detail = { worker: true, wrap, script };
  if (error !== undefined) detail.error = error;
  target.dispatchEvent(new CustomEvent(type, { bubbles: true, detail }));
}

// `py:all-done` (PyScript: once every script on the page finished): each time
// the last running MPWorker / PyWorker finishes, however it finished.
const running = new Set();
function finished(worker) {
  if (!running.delete(worker) || running.size !== 0) return;
  const target = globalThis.document ?? globalThis;
  if (typeof target.dispatchEvent === "function" && typeof Event === "function") {
    target.dispatchEvent(new Event("py:all-done", { bubbles: true }));
  }
}

// PyScript's MPWorker / PyWorker are async factories (`await MPWorker(url,
// options)` resolves to the worker once its script ran, rejects with its
// error); ours are classes. Accept both forms: called without `new`, the
// class constructs and the call returns that promise. `instanceof` and
// `extends` see the class.
function factory(C, name) {
  Object.defineProperty(C, "name", { value: name });
  return new Proxy(C, {
    apply(target, _this, args) {
      let w;
      try {
        w = new target(...args);
      } catch (e) {
        return Promise.reject(e);
      }
      return w.done.then(() => w);
    },
  });
}

/** MicroPython in a worker, PyScript-style: `from pyscript import window, document, sync`. */
class MicroPythonWorker extends PythonWorker {
  constructor(url, options) {
    super("micropython", url, options);
  }
}

/** Pyodide (CPython) in a worker, PyScript-style: `from pyscript import window, document, sync`. */
class PyodideWorker extends PythonWorker {
  constructor(url, options) {
    super("pyodide", url, options);
  }
}

/** MicroPython in a worker: `new MPWorker(url, options)`, or PyScript's `await MPWorker(url, options)`. */
export const MPWorker = factory(MicroPythonWorker, "MPWorker");
/** Pyodide in a worker: `new PyWorker(url, options)`, or PyScript's `await PyWorker(url, options)`. */
export const PyWorker = factory(PyodideWorker, "PyWorker");
