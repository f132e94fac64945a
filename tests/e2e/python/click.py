from pyscript import window, document


def handler(event):
    print("clicked", event.type, event.target.id)
    document.getElementById("out").textContent = "clicked " + event.target.id


window.addEventListener("click", handler)
print("listening")
