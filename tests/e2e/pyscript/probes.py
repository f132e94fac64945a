# Round trips per Python-level DOM read in a PyScript worker
# (tests/e2e/pyscript.test.mjs): each count is the number of requests main
# served for the statement, read with the page's window.served() (one apply
# of a function Python already holds, subtracted); the counting is
# probe_cost.py's (tests/e2e/python/, shared with worker-bridge/python's).
from pyscript import window, document
from probe_cost import counter, dom_costs

body = dom_costs(counter(window.served, window.report), document)
# What the interpreter derived from the answers stays right.
import sys

if sys.implementation.name == "cpython":  # MicroPython has no len() of a JS object
    children = document.body.children  # an HTMLCollection: a sequence in Pyodide
    window.report("children_len", len(children) >= 20)
window.report("body_tag", body.tagName)
window.report("body_has_len", hasattr(body, "__len__"))
window.report("done", True)
