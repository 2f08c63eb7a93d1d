# Channels, per-task output and timeouts from threads running at once (for TSan).
import sys, threading, pyhost
ch = pyhost.Channel(maxsize=4)
N = 300
got = []
def produce(base):
    for i in range(N):
        ch.put(base + i, timeout=30)
def consume():
    for _ in range(2 * N):
        got.append(ch.get(timeout=30))
def say(k):
    for i in range(100):
        sys.stdout.write(f"task {pyhost.task_id} thread {k} line {i}\n")
ts = [threading.Thread(target=produce, args=(0,)), threading.Thread(target=produce, args=(N,)),
      threading.Thread(target=consume)] + [threading.Thread(target=say, args=(k,)) for k in range(3)]
for t in ts: t.start()
for t in ts: t.join()
assert sorted(got) == list(range(2 * N))
print("ok", pyhost.task_id, sys._is_gil_enabled())
