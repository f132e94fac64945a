# config.packages (PyWorker): the wheel was installed before this script ran.
from pyscript import sync
import wbhello

sync.report("greeting", wbhello.greet("page"))
sync.report("version", wbhello.__version__)
print("packages done")
