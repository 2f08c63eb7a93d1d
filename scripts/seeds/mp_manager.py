"""Two processes update a Manager list and a Manager dict.

Source: seed 004, AD4305 unit V, "Using Manager" (shared list).  Fixes:
`if __name__ == "__main__":` guard; the list is printed inside the
`with Manager()` block (the proxy is dead after it) and sorted, because the
two processes' appends interleave in a timing-dependent order.  A shared dict
is added, as the seed's text mentions "lists and dictionaries".
"""
from multiprocessing import Process, Manager


# Function to update a shared list
def update_shared_list(shared_list):
    for i in range(5):
        shared_list.append(i)


# Function to update a shared dict
def update_shared_dict(shared_dict, name):
    shared_dict[name] = sum(range(5))


if __name__ == "__main__":
    # Create a manager to manage shared data
    with Manager() as manager:
        shared_list = manager.list()  # Shared list
        shared_dict = manager.dict()  # Shared dict

        process1 = Process(target=update_shared_list, args=(shared_list,))
        process2 = Process(target=update_shared_list, args=(shared_list,))
        process3 = Process(target=update_shared_dict, args=(shared_dict, "p3"))
        process4 = Process(target=update_shared_dict, args=(shared_dict, "p4"))
        processes = [process1, process2, process3, process4]

        # Start and join processes
        for p in processes:
            p.start()
        for p in processes:
            p.join()

        print("Shared List:", sorted(shared_list))
        print("Shared Dict:", dict(sorted(shared_dict.items())))
        print("exit codes:", [p.exitcode for p in processes])
