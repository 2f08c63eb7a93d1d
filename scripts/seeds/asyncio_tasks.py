"""Two tasks scheduled with asyncio.create_task() run concurrently.

Source: seed 004, AD4305 unit V, "Tasks and Event Loop".  The sleeps of 2 s
and 1 s are 0.3 s and 0.05 s; task 2 always finishes first because its
deadline is earlier.
"""
import asyncio


async def task1():
    print("Task 1 started")
    await asyncio.sleep(0.3)
    print("Task 1 finished")


async def task2():
    print("Task 2 started")
    await asyncio.sleep(0.05)
    print("Task 2 finished")


async def main():
    # Schedule tasks concurrently
    task_1 = asyncio.create_task(task1())
    task_2 = asyncio.create_task(task2())

    print("Both tasks running concurrently...")
    await task_1
    await task_2


asyncio.run(main())
