# Round trips per Python-level DOM read in a PyScript worker
# (tests/e2e/pyscript.test.mjs): each count is the number of requests main
# served for the statement, read with the page's window.served() (one apply
# of a function Python already holds, subtracted).
from pyscript import window, document

served = window.served
report = window.report


def cost(name, fn, n=1):
    before = served()
    result = None
    for _ in range(n):
        result = fn()
    after = served()
    report(name, (after - before - 1) / n)
    return result


body = cost("document.body", lambda: document.body)
cost("document.title", lambda: document.title)


def dom_loop():
    el = document.createElement("div")
    el.textContent = "probe"
    body.appendChild(el)


cost("dom loop element", dom_loop, 20)
# What the interpreter derived from the answers stays right.
import sys

if sys.implementation.name == "cpython":  # MicroPython has no len() of a JS object
    children = document.body.children  # an HTMLCollection: a sequence in Pyodide
    window.report("children_len", len(children) >= 20)
window.report("body_tag", body.tagName)
window.report("body_has_len", hasattr(body, "__len__"))
window.report("done", True)
