import time

print("starting an endless loop", flush=True)
while True:
    time.sleep(0.05)
