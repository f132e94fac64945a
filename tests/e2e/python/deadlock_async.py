from pyscript import sync, ffi


async def worker_task():
    return "never awaited by the blocked worker"


sync.worker_task = worker_task
try:
    sync.main_task()
    print("main_task returned")
except ffi.JsException as e:
    print("deadlock error:", "Possible deadlock" in str(e), "worker_task" in str(e))
