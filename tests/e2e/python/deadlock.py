from pyscript import sync

sync.worker_task = lambda: print("this is fine")
result = sync.main_task()
print("main_task returned:", result)
