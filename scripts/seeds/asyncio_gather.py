"""asyncio.gather() runs three simulated API fetches concurrently.

Source: seed 004, AD4305 unit V, "Non-blocking I/O with asyncio".
Fixes: `asyncio.run(main())` was indented into main() (it never ran); the 2 s
delay is 0.1 s.  The "fetched" messages are returned and printed in gather()
order, so the output does not depend on which timer fires first.
"""
import asyncio
import time

DELAY = 0.1


async def fetch_data(api_name):
    print(f"Fetching data from {api_name}...")
    await asyncio.sleep(DELAY)  # Simulate network delay
    return f"Data from {api_name} fetched!"


async def main():
    # Concurrently fetch data from multiple APIs
    results = await asyncio.gather(
        fetch_data("API_1"),
        fetch_data("API_2"),
        fetch_data("API_3")
    )
    for line in results:
        print(line)


if __name__ == "__main__":
    start = time.monotonic()
    asyncio.run(main())
    elapsed = time.monotonic() - start
    print("all 3 fetches done, took at least one delay:", elapsed >= DELAY)
