# Round trips per common operation (tests/e2e/python.test.mjs), counted as
# probes.py counts them, and the results of the calls MicroPython makes in
# its own way for bridge proxies (python-worker.js, "Round trips of a page
# function call"). Run for MicroPython; Pyodide gives the same counts but for
# the loop (docs/benchmarks.md).
from pyscript import window, document, sync


def cost(name, fn, n=10):
    before = sync.served()
    result = None
    for _ in range(n):
        result = fn()
    sync.report("rt " + name, (sync.served() - before - 1) / n)
    return result


r = window.rounds
m = window.Math
cost("Math.max(1, 2)", lambda: m.max(1, 2))
cost("window.Math.max(1, 2)", lambda: window.Math.max(1, 2))
cost("document.title", lambda: document.title)
cost("page function", lambda: r.add(1, 2))
body = document.body


def dom_loop():
    el = document.createElement("div")
    el.textContent = "rounds"
    body.appendChild(el)


cost("dom loop element", dom_loop, 20)


def walk(xs):
    before = sync.served()
    n = 0
    for x in xs:
        n += x.i
    return sync.served() - before - 1, n


(short, s_sum), (long, l_sum) = walk(r.list(10)), walk(r.list(30))
sync.report("rt iteration, per element", (long - short) / 20)
sync.report("rt iteration, set-up", short - 10 * (long - short) / 20)
sync.report("iteration_sums", [s_sum, l_sum])
adder = r.makeAdder(10)
cost("returned function", lambda: adder(5))

# The results are what they were.
sync.report("max", m.max(1, 2))
sync.report("add", r.add(2, 3))
sync.report("this", r.obj.who())
who = r.obj.who
sync.report("bound", who())
sync.report("adder", adder(5))
sync.report("adder0", adder())
sync.report("adder_again", r.makeAdder(1)(2))
sync.report("ref_fn", r.refFn(7))


def twice(x):
    return x * 2


sync.report("callback", r.callBack(twice, 21))
sync.report("echo_is_same", r.echo(twice) is twice)
sync.report("echo_fn", r.echo(r.add)(3, 4))
sync.report("echo_body", r.echo(body).tagName)
sync.report("kw", r.kw(1, b=2))
sync.report("many", r.kw(1, 2, 3, 4))
sync.report("none", r.kw())
sync.report("children", len([c for c in document.body.children]) >= 20)
sync.report("missing", hasattr(r, "nope"))
try:
    r.nope
    sync.report("missing_attr", "no error")
except AttributeError:
    sync.report("missing_attr", "AttributeError")
print("rounds done")
