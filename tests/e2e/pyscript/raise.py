# An uncaught Python error in a worker: PyScript shows it on the page.
from pyscript import window

window.report("before", True)
raise ValueError("raised in the worker")
