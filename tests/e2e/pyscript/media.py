# The case: getUserMedia has no device in headless Chromium, its
# promise rejects with a DOMException, and awaiting it raises in Python.
from pyscript import window

try:
    await window.navigator.mediaDevices.getUserMedia({"video": True})
    window.report("media", "resolved")
except Exception as e:
    window.report("media", "raised: " + str(e))
window.report("done", True)
