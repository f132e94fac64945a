# A click on the page runs a Python handler in the worker.
from pyscript import window, document
from pyscript.ffi import create_proxy


def on_click(event):
    window.report("clicked", event.type + ":" + event.target.id)
    window.report("done", True)


button = document.createElement("button")
button.id = "btn"
button.textContent = "click me"
document.body.append(button)
button.addEventListener("click", create_proxy(on_click))
window.report("ready", True)
