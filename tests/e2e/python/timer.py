from pyscript import window

window.setTimeout(lambda x: print(x), 100, "OK")
print("timer set")
