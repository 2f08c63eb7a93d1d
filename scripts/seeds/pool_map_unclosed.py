"""multiprocessing.Pool(processes=4).map without closing the pool.

Source: seed 002, "Does Python support parallel programming?" (Pool example).
Fixes: indentation and `if name == 'main'` -> `if __name__ == '__main__'`.
Like the seed, the pool is neither closed nor used as a context manager: the
interpreter's exit handlers must shut its workers down.
"""
from multiprocessing import Pool


def worker(x):
    return x * x


if __name__ == '__main__':
    pool = Pool(processes=4)
    result = pool.map(worker, [1, 2, 3, 4])
    print(result)  # Output: [1, 4, 9, 16]
