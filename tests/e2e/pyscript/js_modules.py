# `from pyscript.js_modules import x` in a worker: polyscript reads
# window[Symbol.for("polyscript.js_modules")] on the page (registered
# symbols as keys on the wire: issue 13, item 7).
from pyscript import window
from pyscript.js_modules import jsmod

window.report("jsmod", jsmod.greet("worker"))
window.report("done", True)
