# Round trips per Python-level DOM read (tests/e2e/python.test.mjs): each
# count is the number of requests main served for the statement, measured
# with sync.served() (itself one request, subtracted; probe_cost.py counts),
# plus checks that the shape answers (docs/protocol.md "Describe") are right.
from pyscript import window, document, sync
from probe_cost import counter, dom_costs

body = dom_costs(counter(sync.served, sync.report), document)

# Correctness of what Pyodide derived from the snapshots.
children = document.body.children  # an HTMLCollection: Pyodide sees a sequence
sync.report("children_len", len(children) >= 20)
sync.report("children_first_tag", children[0].tagName)
sync.report("body_tag", body.tagName)
sync.report("body_has_len", hasattr(body, "__len__"))
m = window.Map.new()
m.set("k", 1)
sync.report("map_get", m.get("k"))
sync.report("map_in", "k" in m)  # Pyodide's HAS_CONTAINS from the snapshot: Map.prototype.has
arr = window.Array.new(1, 2, 3)
sync.report("array_len", len(arr))
err = window.Error.new("made on main")
sync.report("error_is_error", err.message)
# instanceof from Python, through main's own constructors and prototypes.
sync.report("body_instanceof", window.isInstance(body, window.HTMLBodyElement))
sync.report("body_is_element", window.Object.prototype.isPrototypeOf.call(window.Element.prototype, body))
# A prototype changed on main between two reads from Python is seen.
sync.report("proto_before", window.probeTarget.kind)
window.swapProbeProto()
sync.report("proto_after", window.probeTarget.kind)
sync.report("proto_after_has", hasattr(window.probeTarget, "extra"))
# A loop polling a property main adds later (a timer on main) ends: the
# snapshot answers a bounded number of probes, then main is asked again.
import time

t = window.probeTarget
t.constructor  # any read: t's snapshot is taken when Pyodide wraps t
window.addLateLater()
t0 = time.time()
seen = False
while time.time() - t0 < 20:
    if hasattr(t, "late"):
        seen = True
        break
sync.report("late_seen", seen)
print("probes done")
