from pyscript import sync, ffi

try:
    sync.fails("boom")
    print("no exception")
except ffi.JsException as e:
    sync.report("caught_type", type(e).__name__)
    sync.report("caught_text", str(e))
    print("caught a JS error from the main thread")

# The worker is still fine afterwards.
print("after:", sync.add(2, 3))
