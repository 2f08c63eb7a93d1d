"""Four calls send updates of a shared list and a shared dict through a Channel.

Rewrite of scripts/seeds/mp_manager.py (four multiprocessing.Process updating a
Manager list and a Manager dict).  pyhost has no Manager proxies: each call
puts its updates on a pyhost.Channel, and the main script, which owns the list
and the dict, applies them once every call is done.  The list is sorted, as in
the seed, because the calls' updates interleave in a timing-dependent order.
The executor mode comes from PYHOST_EXECUTOR_MODE (default "subinterpreters").
"""
import os

import pyhost

MODE = os.environ.get("PYHOST_EXECUTOR_MODE", "subinterpreters")


# Function to update the shared list
def update_shared_list(updates):
    for i in range(5):
        updates.put(("append", i))
    return 5


# Function to update the shared dict
def update_shared_dict(updates, name):
    updates.put(("set", name, sum(range(5))))
    return 1


if __name__ == "__main__":
    shared_list = []  # Owned by the main script
    shared_dict = {}
    updates = pyhost.Channel()

    with pyhost.Executor(MODE, workers=2) as executor:
        futures = [
            executor.submit(update_shared_list, updates),
            executor.submit(update_shared_list, updates),
            executor.submit(update_shared_dict, updates, "p3"),
            executor.submit(update_shared_dict, updates, "p4"),
        ]
        counts = [f.result() for f in futures]  # Wait for every call

    updates.close()
    for update in updates:  # Apply what is left in the closed channel
        if update[0] == "append":
            shared_list.append(update[1])
        else:
            shared_dict[update[1]] = update[2]

    print("Shared List:", sorted(shared_list))
    print("Shared Dict:", dict(sorted(shared_dict.items())))
    print("updates sent per call:", counts)
