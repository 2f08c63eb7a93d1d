"""The unsynchronized counter from "The Problem with Shared State".

Source: seed 001, parallelism lecture slides.  Two threads (the main thread and
`other`) each run counter[0] = counter[0] + 1.  The result is 2 or, if a switch
happens between the read and the write, 1 -- so this script prints only facts
that hold either way, then the Lock-protected fix, which always gives 2.
The slides' "force a switch" variant (sleep(0) between read and write) is
included too.
"""
from threading import Thread, Lock
from time import sleep

TRIALS = 200


def racy_trial(force_switch):
    counter = [0]

    def increment():
        if force_switch:
            count = counter[0]
            sleep(0)  # try to force a switch between read and write
            counter[0] = count + 1
        else:
            counter[0] = counter[0] + 1

    other = Thread(target=increment, args=())
    other.start()
    increment()
    other.join()
    return counter[0]


def locked_trial():
    counter = [0]
    lock = Lock()

    def increment():
        with lock:
            count = counter[0]
            sleep(0)  # a switch here no longer matters
            counter[0] = count + 1

    other = Thread(target=increment, args=())
    other.start()
    increment()
    other.join()
    return counter[0]


if __name__ == '__main__':
    plain = {racy_trial(False) for _ in range(TRIALS)}
    forced = {racy_trial(True) for _ in range(TRIALS)}
    locked = {locked_trial() for _ in range(TRIALS)}
    print(f'{TRIALS} racy trials, every count is 1 or 2:', plain <= {1, 2})
    print(f'{TRIALS} forced-switch trials, every count is 1 or 2:',
          forced <= {1, 2})
    print(f'{TRIALS} locked trials, count is now', sorted(locked))
