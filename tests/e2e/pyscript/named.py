# Main-thread Python reaches a named worker (<script worker name="calc">).
from pyscript import workers, window

calc = await workers["calc"]
window.report("named", await calc.double(5))
window.report("done", True)
