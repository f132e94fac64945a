from pyscript import sync, ffi, window, document

try:
    sync.fails("boom")
    print("no exception")
except ffi.JsException as e:
    sync.report("caught_type", type(e).__name__)
    sync.report("caught_text", str(e))
    sync.report("caught_name", e.name)
    sync.report("caught_message", e.message)
    print("caught a JS error from the main thread")

# A window/document operation that throws on the main thread.
try:
    document.querySelector("<bad>")
    print("no exception")
except ffi.JsException as e:
    sync.report("dom_name", e.name)
    sync.report("dom_text", str(e))

# A page function that throws, caught as any Exception.
try:
    window.__throws("x")
    print("no exception")
except Exception as e:
    sync.report("window_fn", [type(e).__name__, str(e)])

# Many in a row: the interpreter stays consistent.
n = 0
for i in range(50):
    try:
        window.__throws(i)
    except ffi.JsException:
        n += 1
sync.report("caught_in_loop", n)

# The worker is still fine afterwards.
print("after:", sync.add(2, 3))
