# No SharedArrayBuffer and no service worker: every use of window/document
# raises the FAQ error (nothing succeeds silently on a local stand-in).
from pyscript import window, document, sync

uses = [
    ("read", lambda: window.location),
    ("read document", lambda: document.title),
    ("call", lambda: window.alert("x")),
    ("call document", lambda: document("x")),
    ("item", lambda: window["x"]),
]


def assign():
    document.title = "x"


def assign_window():
    window.foo = 1


def delete():
    del window.foo


def assign_item():
    window["x"] = 1


def delete_item():
    del document["x"]


uses += [("assign", assign), ("assign window", assign_window), ("delete", delete),
         ("assign item", assign_item), ("delete item", delete_item)]

results = []
for what, use in uses:
    try:
        use()
        results.append(what + ": no error")
    except RuntimeError as e:
        msg = str(e)
        ok = msg.startswith("Unable to use `window` or `document`") and "Cross-Origin-Opener-Policy" in msg and "serviceWorker" in msg
        results.append(what + ": " + ("FAQ error" if ok else msg))
sync.report("uses", results)
print("checked", len(results))
