"""Fetch several JSON records concurrently, then process them concurrently.

Source: seed 004, AD4305 unit V, "Program using asyncio to concurrently fetch
and process data from multiple APIs".  The seed uses aiohttp and the network
(jsonplaceholder.typicode.com); this standard-library version keeps the
two-stage asyncio.gather() pipeline but simulates the HTTP session with canned
JSON documents parsed by the json module.  The 1 s processing sleep is 0.05 s.
"""
import asyncio
import json

API_URLS = [
    "https://jsonplaceholder.typicode.com/todos/1",
    "https://jsonplaceholder.typicode.com/todos/2",
    "https://jsonplaceholder.typicode.com/todos/3",
]

# What the three URLs return (first fields of the real responses).
FAKE_RESPONSES = {
    API_URLS[0]: '{"userId": 1, "id": 1, "title": "delectus aut autem", "completed": false}',
    API_URLS[1]: '{"userId": 1, "id": 2, "title": "quis ut nam facilis et officia qui", "completed": false}',
    API_URLS[2]: '{"userId": 1, "id": 3, "title": "fugiat veniam minus", "completed": false}',
}


class FakeSession:
    """Stands in for aiohttp.ClientSession: get(url).json() after a short await."""

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False

    async def get_json(self, url):
        await asyncio.sleep(0.01)  # simulated network latency
        return json.loads(FAKE_RESPONSES[url])


async def fetch(session, url):
    return await session.get_json(url)


async def process_data(data):
    # Simulate processing time
    await asyncio.sleep(0.05)
    return {"id": data["id"], "title": data["title"].upper()}


async def main():
    async with FakeSession() as session:
        tasks = [fetch(session, url) for url in API_URLS]
        responses = await asyncio.gather(*tasks)
        process_tasks = [process_data(data) for data in responses]
        processed_data = await asyncio.gather(*process_tasks)

    for item in processed_data:
        print(item)


if __name__ == "__main__":
    asyncio.run(main())
