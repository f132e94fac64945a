from pyscript import window, document, sync

p = document.getElementById("out")
p.textContent = "python says " + str(sync.add(20, 22))
window.document.title = "set from python"
