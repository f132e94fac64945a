# A worker drives the page: `from pyscript import window, document, sync, ffi`.
from pyscript import window, document, sync, ffi
import sys

window.report("impl", sys.implementation.name)
window.report("title", document.title)
h = document.getElementById("heading")
window.report("heading", h.textContent)
div = document.createElement("div")
div.id = "from-python"
div.textContent = "hello from a worker"
document.body.append(div)
window.report("max", window.Math.max(3, 9, 4))
# transform: Python containers reach the page as JS values
window.report("list", [1, 2, "three"])
window.report("dict", {"a": 1, "b": [True, None]})
# sync: what the page exposes (here: PyScript's own helpers are there)
window.report("sync_isStuck", sync.isStuck())
# reflected-ffi's batched helpers
window.report("gather", ffi.gather(document, "title", "body.firstElementChild.id"))
window.report("query", ffi.query(window, "location.pathname"))
ffi.assign(h.dataset, {"fromPython": "yes"})
window.report("assigned", h.dataset.fromPython)
# a page function that throws raises in Python only through an awaited promise
try:
    await window.rejectSoon("from the page")
except Exception as e:
    window.report("error", str(e))
window.report("done", True)
