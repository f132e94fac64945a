# Python values passed to main-thread functions (window.*, constructors,
# assignments) cross by value as PyScript delivers them: lists/tuples as
# arrays, dicts as plain objects, bytes as Uint8Array; functions and other
# objects by reference.
from pyscript import window, sync

describe = window.__describe
describe("list", [1, 2])
describe("tuple", (1, "two"))
describe("dict", {"a": 1, "b": [1, {"c": 2}], "async": False})
describe("bytes", b"ab\x00\xff")
describe("bytearray", bytearray(b"xyz"))
describe("nested", [{"x": [1, 2]}, "s", None, b"\x01"])
describe("with_function", {"f": lambda: 42})


class Thing:
    pass


describe("instance", Thing())

# A constructor's arguments: Blob of bytes is 5 bytes long, not a proxy's text.
blob = window.Blob.new([b"hello"])
sync.report("blob_size", blob.size)
blob_text = window.Blob.new(["a", "bc"])
sync.report("blob_text_size", blob_text.size)

# An assignment: a dict becomes a plain object on the page.
window.__assigned = {"k": [1, 2, 3]}
sync.report("assigned", window.JSON.stringify(window.__assigned))
sync.report("assigned_is_plain", window.__isPlain(window.__assigned))

# sync calls still deliver plain values.
sync.describe("sync_dict", {"n": 1})
print("values done")
