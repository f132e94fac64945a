# Rejections that are not Errors of the worker's realm (issue 13): awaiting
# each raises in Python, with the reason's name and message.
from pyscript import window

for kind in ["dom", "string", "object"]:
    try:
        await window.rejectWith(kind)
        window.report(kind, "resolved")
    except Exception as e:
        window.report(kind, "raised: " + str(e))
window.report("done", True)
