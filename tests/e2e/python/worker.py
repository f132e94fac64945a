from pyscript import sync


def python_function(a, b):
    print("python_function called with", a, b)
    return {"sum": a + b, "items": [a, b], "nested": {"ok": True}}


sync.python_function = python_function
