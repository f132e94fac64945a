// The Python sources of the small `pyscript`-compatible package that
// python-worker.js writes into the interpreter's file system before the
// user's script runs. Kept as JS strings so the package needs no extra fetch
// and survives any bundler. They run on MicroPython and on CPython (Pyodide).
//
// They rely on a JS module `_worker_bridge` that python-worker.js registers:
//   window, document   the bridge's synchronous proxies of the main thread
//   sync               names exposed to / by the main thread
//   blocking           True when synchronous calls into the main thread work
//   transport          "atomics" | "service-worker" | "async"
//   implementation     "micropython" | "pyodide"
//   js_modules         { name: module } of config.js_modules (main ones by reference)
//   js_module_names    their names
//   JsException        MicroPython: the JsException class JS errors raise
//                      (python-worker.js); Pyodide: null

export const PYSCRIPT_MODULES = {
  "pyscript/__init__.py": `\
# pyscript-compatible API for scripts run by worker-bridge's MPWorker / PyWorker.
import _worker_bridge as _wb
from pyscript import ffi

RUNNING_IN_WORKER = True
transport = _wb.transport

# config.js_modules (main and worker): from pyscript.js_modules import name,
# or from pyscript.js_modules.name import export.
import sys as _sys

js_modules = _wb.js_modules
for _name in _wb.js_module_names:
    _sys.modules["pyscript.js_modules." + _name] = getattr(js_modules, _name)
_sys.modules["pyscript.js_modules"] = js_modules
del _sys


# A JS exception (a failing window/document operation, a main function that
# threw, DeadlockError, TimeoutError) raises ffi.JsException, catchable, on
# both interpreters.
sync = _wb.sync

_FAQ = (
    "Unable to use \`window\` or \`document\`: synchronous calls into the main thread "
    "need SharedArrayBuffer (serve the page with Cross-Origin-Opener-Policy: same-origin "
    "and Cross-Origin-Embedder-Policy: require-corp) or the service-worker fallback "
    "(pass serviceWorker to MPWorker / PyWorker)."
)


def _not_supported(name):
    # Every use raises: reads, calls, assignments, deletes, item access.
    def fail(what):
        raise RuntimeError(_FAQ + " (" + what + ")")

    class NotSupported:
        def __getattr__(self, attr):
            fail("accessed " + name + "." + attr)

        def __setattr__(self, attr, value):
            fail("assigned " + name + "." + attr)

        def __delattr__(self, attr):
            fail("deleted " + name + "." + attr)

        def __call__(self, *args, **kwargs):
            fail("called " + name)

        def __getitem__(self, key):
            fail("accessed " + name + "[" + repr(key) + "]")

        def __setitem__(self, key, value):
            fail("assigned " + name + "[" + repr(key) + "]")

        def __delitem__(self, key):
            fail("deleted " + name + "[" + repr(key) + "]")

        def __repr__(self):
            return "<" + name + ": unavailable, see pyscript.transport>"

    return NotSupported()


if _wb.blocking:
    window = _wb.window
    document = _wb.document
else:
    window = _not_supported("window")
    document = _not_supported("document")
`,
  "pyscript/ffi.py": `\
# pyscript.ffi: to_js / create_proxy with PyScript's semantics.
import sys

if sys.implementation.name == "micropython":
    import jsffi
    import _worker_bridge

    # A subclass of jsffi.JsException with Pyodide's shape: str(e) is
    # "Name: message"; e.name, e.message, e.js_error.
    JsException = _worker_bridge.JsException or jsffi.JsException

    def to_js(value, **kwargs):
        """Convert a Python value to JS: dicts become plain JS objects, lists arrays."""
        return jsffi.to_js(value)

    def create_proxy(func):
        """A pass-through: the bridge keeps every callable it sends alive until
        the main thread releases it, so no explicit proxy is needed."""
        return func

else:
    import js
    from pyodide.ffi import JsException, create_proxy
    from pyodide.ffi import to_js as _to_js

    def to_js(value, **kwargs):
        """Convert a Python value to JS: dicts become plain JS objects, lists arrays."""
        if "dict_converter" not in kwargs:
            kwargs["dict_converter"] = js.Object.fromEntries
        return _to_js(value, **kwargs)
`,
};
