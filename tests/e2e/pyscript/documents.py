# A worker started by documents.js: reads the page's document the ways PyScript
# code does (pyscript.document, pyscript.window.document, and js.document,
# which PyScript assigns in a worker) and marks the heading with its tag.
from pyscript import window, document
import js


def read(tag):
    h = window.document.getElementById("heading")
    h.setAttribute("data-" + tag, document.title)
    return [document.title, window.document.title, js.document.title, h.getAttribute("data-" + tag)]


__export__ = ["read"]
