"""Semaphore(2) lets at most two of five threads work at the same time.

Source: seed 004, AD4305 unit V, "c) Semaphore".  Changes: the 2 s of
simulated work is 0.05 s; the threads' "working/done" lines would come in a
timing-dependent order, so the threads record what they saw and the main
thread prints it in a fixed order, plus the invariant "never more than 2".
"""
import threading
import time

semaphore = threading.Semaphore(2)  # Allow 2 threads at a time
state_lock = threading.Lock()
inside = 0
max_inside = 0
done = []


def task(name):
    global inside, max_inside
    with semaphore:  # Acquire semaphore
        with state_lock:
            inside += 1
            max_inside = max(max_inside, inside)
        time.sleep(0.05)  # Simulate work
        with state_lock:
            inside -= 1
            done.append(name)


# Create threads
threads = [threading.Thread(target=task, args=(f"Thread-{i}",)) for i in range(5)]

# Start and join threads
for t in threads:
    t.start()

for t in threads:
    t.join()

for name in sorted(done):
    print(f"{name} is done!")
print("threads finished:", len(done))
print("never more than 2 working at once:", 1 <= max_inside <= 2)
print("semaphore fully released:", inside == 0 and semaphore.acquire(blocking=False))
