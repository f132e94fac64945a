# A MicroPython / Pyodide worker drives the page through worker-bridge.
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
window.report("fn", window.Math.max(3, 9, 4))
window.report("done", True)
