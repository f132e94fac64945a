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
    # Holds on until the page's dispatchEvent returned: the page stopped
    # waiting for this listener (past eventWait), however long that took.
    # The pause between asks leaves the page's wait a moment without a
    # request, when it looks at its deadline; the give-up only turns a page
    # that never stops waiting into a failed test instead of a hung one.
    start = _ms()
    over = False
    while not over and _ms() - start < 20000:
        over = sync.dispatch_over()
        if not over:
            pause = _ms()
            while _ms() - pause < 1:
                pass
    sync.report("slow_over", over)
    sync.report("slow_phase", event.eventPhase)


btn = document.getElementById("btn")
btn.addEventListener("wb-test", on_test)
btn.addEventListener("wb-slow", on_slow)
print("listening")
