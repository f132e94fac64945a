# The Python side of benches/pyscript/run.mjs: one worker, started by
# MPWorker / PyWorker from the page (bench.js). Times are taken in the
# worker with its own performance.now() (no round trip).
import js
from pyscript import window, document, sync

FIRST = js.performance.timeOrigin + js.performance.now()


def first_line():
    return FIRST


def timeline():
    # Where the start went: the worker's time origin (its global was
    # created) and when it began fetching the interpreter's module (after
    # the bridge's start-up and the worker script's own), both in the
    # page's clock.
    origin = js.performance.timeOrigin
    fetched = None
    for e in js.performance.getEntriesByType("resource"):
        if e.name.endswith("micropython.mjs") or e.name.endswith("pyodide.mjs"):
            fetched = origin + e.startTime
            break
    return [origin, fetched]


def run(kind, n):
    now = js.performance.now
    if kind == "fn":
        m = window.Math
        t = now()
        for i in range(n):
            m.max(i, 1)
        return now() - t
    if kind == "title":
        d = document
        t = now()
        for i in range(n):
            d.title
        return now() - t
    if kind == "sync":
        f = sync.bench
        t = now()
        for i in range(n):
            f(i)
        return now() - t
    if kind == "dom":
        box = document.getElementById("out")
        t = now()
        for i in range(n):
            el = document.createElement("div")
            el.textContent = str(i)
            box.append(el)
        elapsed = now() - t
        box.replaceChildren()
        return elapsed
    raise ValueError(kind)


# PyScript exports what __export__ names; worker-bridge/python exposes with
# sync.name = f (its pyscript module is the one with `_wb`).
__export__ = ["first_line", "timeline", "run"]
import pyscript

if hasattr(pyscript, "_wb"):
    sync.first_line = first_line
    sync.timeline = timeline
    sync.run = run
