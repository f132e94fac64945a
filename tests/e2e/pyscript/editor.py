from pyscript import window, document
import sys
window.report("editor", sys.implementation.name + ":" + document.title)
window.report("done", True)
