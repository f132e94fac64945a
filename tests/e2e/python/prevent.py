# A Python listener that calls preventDefault() / stopPropagation(): the page
# dispatches synchronously and waits for it (BridgeWorker's eventWait).
from pyscript import document, sync

try:
    from time import ticks_ms as _ms  # MicroPython
except ImportError:
    from time import monotonic

    def _ms():
        return int(monotonic() * 1000)


def on_test(event):
    event.preventDefault()
    event.stopPropagation()
    sync.report("listener_ran", event.type)


def on_slow(event):
    start = _ms()
    while _ms() - start < 300:  # longer than the page waits (eventWait=20)
        pass
    sync.report("slow_phase", event.eventPhase)


btn = document.getElementById("btn")
btn.addEventListener("wb-test", on_test)
btn.addEventListener("wb-slow", on_slow)
print("listening")
