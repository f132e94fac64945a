import { BridgeWorker, BridgeWorkerOptions, MainSync } from "./main.js";

/** Where the interpreters are loaded from when the `interpreter` option is omitted. */
export const DEFAULT_INTERPRETERS: Readonly<{ micropython: string; pyodide: string }>;

/** A Python exception that ended the script. `message` is the traceback; its last line names the error. */
export class PythonError extends Error {
  constructor(type: string, traceback: string);
  readonly name: "PythonError";
  /** The Python exception class, e.g. "NameError". */
  readonly type: string;
}

/** PyScript's config, the parts this layer reads. */
export interface PythonConfig {
  /**
   * Files to fetch and write into the interpreter's file system before the
   * script runs: `{ "url to fetch": "destination path" }`. URLs resolve
   * against the page; a destination ending in "/" (or empty) gets the URL's
   * file name appended.
   */
  files?: Record<string, string>;
  /**
   * JS modules Python imports with `from pyscript.js_modules import name`:
   * `{ main: { "url": "name" }, worker: { "url": "name" } }`. `main` modules
   * are imported on the page (Python gets a proxy; a ".css" URL becomes a
   * stylesheet link), `worker` modules in the worker. URLs resolve against the page.
   */
  js_modules?: { main?: Record<string, string>; worker?: Record<string, string> };
  /**
   * PyWorker only: packages Pyodide loads before the script runs
   * (`pyodide.loadPackage`): names from Pyodide's package index beside the
   * interpreter (e.g. "numpy"), or URLs of wheels (resolved against the
   * page). One that fails to load rejects `ready` and `done`. MPWorker
   * throws a TypeError for a non-empty list (put .py files in `files`).
   */
  packages?: string[];
  [key: string]: unknown;
}

export interface PythonWorkerOptions extends Omit<BridgeWorkerOptions, "type"> {
  config?: PythonConfig;
  /**
   * URL of the interpreter's ES module: micropython.mjs of
   * @micropython/micropython-webassembly-pyscript for MPWorker, pyodide.mjs of
   * pyodide for PyWorker. Default: DEFAULT_INTERPRETERS (the repository's
   * node_modules, resolved from this module's URL). Set it when the package
   * is installed or bundled elsewhere.
   */
  interpreter?: string | URL;
  /** Receives each line Python prints to stdout. Default: console.log("[mpy] " + line) ("[py] " for PyWorker). */
  onStdout?: (line: string) => void;
  /** Receives each line Python writes to stderr. Default: console.error with the same prefix. */
  onStderr?: (line: string) => void;
}

declare class PythonWorker extends BridgeWorker {
  /**
   * Assign a function to expose it to Python (`from pyscript import sync;
   * sync.name(...)`), read a name to call what Python exposed with
   * `sync.name = f`. A call made before the script defined the name waits
   * until it does (or until the script ends).
   */
  readonly sync: MainSync;
  /** Resolves when the interpreter is loaded, before the script runs; rejects if it cannot start. */
  readonly ready: Promise<void>;
  /** Resolves when the script finished; rejects with a PythonError (or a start-up Error). */
  readonly done: Promise<void>;
  /** The bridge handshake only (the worker script started). */
  readonly bridgeReady: Promise<void>;
  /** Stops the worker; a still pending `ready`/`done` rejects, as does every pending call. */
  terminate(): void;
  /** "micropython" or "pyodide". */
  readonly kind: "micropython" | "pyodide";
}

/**
 * `event.detail` of the lifecycle events. They are dispatched on `document`
 * and bubble (listeners on `document` and `window` see them):
 * "mpy:ready" / "py:ready" (the interpreter is up, before the script runs),
 * "mpy:done" / "py:done", "mpy:error" / "py:error" (with `error`), and
 * "py:all-done" (no detail) when the last running worker finished.
 */
export interface PythonEventDetail {
  /** Always true: PyScript's "dispatched from a worker". */
  readonly worker: true;
  /** The MPWorker / PyWorker. */
  readonly wrap: MPWorker | PyWorker;
  /** The script's URL, resolved. */
  readonly script: string;
  /** "mpy:error" / "py:error" only. */
  readonly error?: Error;
}

/** MicroPython in a worker. Inside, `from pyscript import window, document, sync, ffi, RUNNING_IN_WORKER`. */
export interface MPWorker extends PythonWorker {
  readonly kind: "micropython";
}
export const MPWorker: {
  new (url: string | URL, options?: PythonWorkerOptions): MPWorker;
  /** PyScript's factory form: resolves to the worker once its script ran; rejects with its error. */
  (url: string | URL, options?: PythonWorkerOptions): Promise<MPWorker>;
  readonly prototype: MPWorker;
};

/** Pyodide in a worker, same API as MPWorker. */
export interface PyWorker extends PythonWorker {
  readonly kind: "pyodide";
}
export const PyWorker: {
  new (url: string | URL, options?: PythonWorkerOptions): PyWorker;
  /** PyScript's factory form: resolves to the worker once its script ran; rejects with its error. */
  (url: string | URL, options?: PythonWorkerOptions): Promise<PyWorker>;
  readonly prototype: PyWorker;
};
