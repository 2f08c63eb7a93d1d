"""Create and join a POSIX thread through ctypes; it calls back into Python.

Source: seed 004, AD4305 unit V, "Sample Program: Thread Creation Using
ctypes".  Fixes: the thread function has the pthread signature
void *(*)(void *); the callback object is kept alive and the thread is joined
with pthread_join (the seed returned at once, so the callback could be freed
or run during interpreter shutdown); glibc >= 2.34 keeps pthread_* in libc,
so that is the fallback when libpthread.so.0 is missing.  The PID is not
printed (it varies); the thread reports that it runs in the same process.
Linux only.
"""
import ctypes
import os
import threading

# Load the pthread library
try:
    libpthread = ctypes.CDLL("libpthread.so.0")
except OSError:
    libpthread = ctypes.CDLL(None)

MAIN_PID = os.getpid()
MAIN_IDENT = threading.get_ident()
ran = []


# Define a function for the thread to execute
def thread_function(arg):
    ran.append(threading.get_ident())
    print(f"Thread running in the same process: {os.getpid() == MAIN_PID}")
    print(f"Thread is not the main thread: {threading.get_ident() != MAIN_IDENT}")
    return None


# Wrapper for the thread function: void *start_routine(void *)
THREAD_FUNC_TYPE = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p)
libpthread.pthread_create.argtypes = [
    ctypes.POINTER(ctypes.c_ulong), ctypes.c_void_p, THREAD_FUNC_TYPE, ctypes.c_void_p]
libpthread.pthread_create.restype = ctypes.c_int
libpthread.pthread_join.argtypes = [ctypes.c_ulong, ctypes.c_void_p]
libpthread.pthread_join.restype = ctypes.c_int


def start_thread():
    thread_func = THREAD_FUNC_TYPE(thread_function)

    # Create a pthread
    thread = ctypes.c_ulong()
    rc = libpthread.pthread_create(
        ctypes.byref(thread),  # pthread_t pointer
        None,                  # Default attributes
        thread_func,           # Function pointer
        None,                  # Argument for the function
    )
    # pthread_join releases the GIL (CDLL call), so the callback can run.
    rc_join = libpthread.pthread_join(thread, None)
    print("pthread_create and pthread_join returned 0:", rc == 0 and rc_join == 0)
    print("callback ran once:", len(ran) == 1)


# Run the program
if __name__ == "__main__":
    start_thread()
