from pyscript import sync
import asyncio

async def slow_double(x):
    await asyncio.sleep(0.05)
    return x * 2

sync.slow_double = slow_double
print("exposed")
