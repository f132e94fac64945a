from pyscript import window, sync, transport

print("transport", transport)
sync.python_function = lambda a, b: a + b
window.document.title
