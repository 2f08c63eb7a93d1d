"""A single coroutine run with asyncio.run().

Source: seed 004, AD4305 unit V, "Python's asyncio Module: Coroutines".
The 1 s asyncio.sleep is 0.05 s.
"""
import asyncio


async def greet(name):
    print(f"Hello, {name}!")
    await asyncio.sleep(0.05)  # Simulate an asynchronous task
    print(f"Goodbye, {name}!")


# Run the coroutine
asyncio.run(greet("Alice"))
