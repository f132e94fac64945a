# Round trips per Python-level statement, shared by tests/e2e/python/probes.py
# (worker-bridge/python) and tests/e2e/pyscript/probes.py (PyScript on
# worker-bridge); both tests put this file beside the script (config.files).
# `served()` returns how many requests main served so far (that call is one
# itself, subtracted); `report(name, value)` hands a count to the test.


def counter(served, report):
    def cost(name, fn, n=1):
        before = served()
        result = None
        for _ in range(n):
            result = fn()
        report(name, (served() - before - 1) / n)
        return result

    return cost


def dom_costs(cost, document):
    """document.body, document.title and a loop that appends 20 elements;
    returns the body."""
    body = cost("document.body", lambda: document.body)
    cost("document.title", lambda: document.title)

    def dom_loop():
        el = document.createElement("div")
        el.textContent = "probe"
        body.appendChild(el)

    cost("dom loop element", dom_loop, 20)
    return body
