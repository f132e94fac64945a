from pyscript import window, document, sync, ffi, RUNNING_IN_WORKER

out = document.getElementById("out")
out.textContent = "hello from python"
sync.report("text_read_back", out.textContent)
sync.report("href", window.location.href)
sync.report("running_in_worker", RUNNING_IN_WORKER)

d = window.Date.new(86400000)
sync.report("date_time", d.getTime())
sync.describe("date", d)

m = window.Map.new()
m.set("k", "v")
sync.report("map_get", m.get("k"))
sync.report("map_size", m.size)
sync.describe("map", m)

sync.describe("to_js", ffi.to_js({"a": 1, "b": [1, 2], "c": {"d": "e"}}))

with open("/data/data.txt") as f:
    sync.report("file", f.read())

print("dom done")
