"""ThreadPoolExecutor.map over simulated I/O-bound fetches, plus submit().

Source: seed 004, AD4305 unit V, "Example: ThreadPoolExecutor" (fetch_data
over three URLs) and "Example: submit()" (square of range(5)).
The 2 s simulated I/O delay is 0.05 s.
"""
from concurrent.futures import ThreadPoolExecutor
import time


def fetch_data(url):
    time.sleep(0.05)  # Simulate I/O-bound delay
    return f"Data fetched from {url}"


def square(n):
    return n * n


urls = ['http://example1.com', 'http://example2.com', 'http://example3.com']

with ThreadPoolExecutor(max_workers=3) as executor:
    results = executor.map(fetch_data, urls)

print(list(results))

with ThreadPoolExecutor(max_workers=2) as executor:
    futures = [executor.submit(square, i) for i in range(5)]
    results = [f.result() for f in futures]

print(results)
