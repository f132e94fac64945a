# config.js_modules: `from pyscript.js_modules import name` (PyScript's form)
# and `from pyscript.js_modules.name import export`.
from pyscript import sync
from pyscript.js_modules import main_mod, worker_mod
from pyscript.js_modules.worker_mod import double

sync.report("main_where", main_mod.where)
sync.report("main_title", main_mod.pageTitle())
main_mod.bump()
sync.report("main_counter", main_mod.bump())  # live: the page's module state
sync.report("worker_where", worker_mod.where)
sync.report("worker_double", double(21))
print("js_modules done")
