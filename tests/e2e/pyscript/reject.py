# Awaiting a main-thread promise that rejects raises in Python (issue 13,
# item 8): rejectSoon is a page function (helpers.js) whose promise rejects
# a moment later; resolveSoon's resolves.
from pyscript import window

try:
    await window.rejectSoon("nope")
    window.report("rejected", "resolved")
except Exception as e:
    window.report("rejected", "raised: " + str(e))
value = await window.resolveSoon(42)
window.report("resolved", value)
window.report("done", True)
