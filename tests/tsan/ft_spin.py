# Spins until pyhost's --timeout watcher stops it (PyThreadState_SetAsyncExc from another thread).
while True:
    pass
