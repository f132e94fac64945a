# A worker started by MPWorker / PyWorker (or a named <script worker>): exposes
# functions to the page, calls the page's synchronously, answers user messages.
from pyscript import sync, window
from polyscript import xworker


def double(x):
    return x * 2


def add_via_main(a, b):
    return sync.add(a, b)


def worker_task():
    return "ok"


def faq():
    # PyScript FAQ: the page's main_task awaits worker_task while this worker
    # is blocked in main_task.
    return sync.main_task()


def on_message(event):
    xworker.postMessage("pong:" + str(event.data))


xworker.onmessage = on_message
__export__ = ["double", "add_via_main", "worker_task", "faq"]
