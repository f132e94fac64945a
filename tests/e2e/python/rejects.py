# Awaiting a page promise that rejects with what is not an Error of the
# worker's realm raises ffi.JsException with the reason's name and message.
from pyscript import sync, window

for kind in ["dom", "string", "object"]:
    try:
        await window.__rejectWith(kind)
        sync.report(kind, "resolved")
    except Exception as e:
        sync.report(kind, f"raised {type(e).__name__}: {e}")
