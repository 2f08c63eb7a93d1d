"""End-to-end: `pyhost run scripts/seeds/X.py` prints exactly what `python X.py` prints.

The scripts are the corrected sample programs from the seed documents
(threads, locks, asyncio, concurrent.futures, multiprocessing, ...).  Each one
is deterministic: it prints only facts that hold in every run, whatever the
scheduling and whichever multiprocessing start method is in use.
Scripts run from a temporary directory, so imports such as `do_something`
must come from sys.path[0] (the script's directory), as with python.
"""
import pathlib
import textwrap

import pytest

# Same as pyhost_testing.SCRIPTS / "seeds" (computed here so the import mode does not matter).
SEEDS = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "seeds"
TIMEOUT = 60


def out(text):
    """Expected stdout, written as an indented block: dedent, drop the leading newline."""
    return textwrap.dedent(text).lstrip("\n")


def lines(*items):
    return "".join(f"{item}\n" for item in items)


CASES = [
    # --- threading ---
    ("thread_hello.py", out("""
        hello from Thread-1
        hello from MainThread
        """)),
    ("thread_workers.py",
     lines(*(["Thread started"] + [f"Thread {i}" for i in range(5)]) * 4,
           "All 4 threads finished")),
    ("thread_print_numbers.py",
     lines(*(f"Number: {i}" for i in range(5)), "Thread execution finished!")),
    ("lock_counter.py", "Final Counter: 200000\n"),
    ("racy_counter.py", out("""
        200 racy trials, every count is 1 or 2: True
        200 forced-switch trials, every count is 1 or 2: True
        200 locked trials, count is now [2]
        """)),
    ("rlock_recursive.py",
     lines(*(f"Task {n} acquired the lock" for n in (3, 2, 1, 0)),
           *(f"Task {n} released the lock" for n in (0, 1, 2, 3)))),
    ("semaphore_limit.py",
     lines(*(f"Thread-{i} is done!" for i in range(5)),
           "threads finished: 5",
           "never more than 2 working at once: True",
           "semaphore fully released: True")),
    ("semaphore_threads.py", out("""
        1 printed 5 times
        2 printed 5 times
        total 10
        """)),
    ("event_wait.py", out("""
        Thread waiting for event...
        Event occurred!
        Event is set: True
        """)),
    ("condition_producer_consumer.py",
     lines(*(s for i in range(5) for s in (f"Produced: {i}", f"Consumed: {i}")),
           "Producer and consumer finished")),
    ("queue_producer_consumer.py",
     lines(*(f"got an item: {i}" for i in range(10)),
           "consumer finished, queue empty: True")),
    ("pthread_ctypes.py", out("""
        Thread running in the same process: True
        Thread is not the main thread: True
        pthread_create and pthread_join returned 0: True
        callback ran once: True
        """)),
    # --- asyncio ---
    ("asyncio_coroutine.py", out("""
        Hello, Alice!
        Goodbye, Alice!
        """)),
    ("asyncio_tasks.py", out("""
        Both tasks running concurrently...
        Task 1 started
        Task 2 started
        Task 2 finished
        Task 1 finished
        """)),
    ("asyncio_gather.py",
     lines(*(f"Fetching data from API_{i}..." for i in (1, 2, 3)),
           *(f"Data from API_{i} fetched!" for i in (1, 2, 3)),
           "all 3 fetches done, took at least one delay: True")),
    ("asyncio_fetch_process.py", out("""
        {'id': 1, 'title': 'DELECTUS AUT AUTEM'}
        {'id': 2, 'title': 'QUIS UT NAM FACILIS ET OFFICIA QUI'}
        {'id': 3, 'title': 'FUGIAT VENIAM MINUS'}
        """)),
    # --- concurrent.futures ---
    ("tpe_submit_tasks.py", out("""
        Square of 4: 16
        Cube of 4: 64
        """)),
    ("tpe_map_fetch.py", out("""
        ['Data fetched from http://example1.com', 'Data fetched from http://example2.com', 'Data fetched from http://example3.com']
        [0, 1, 4, 9, 16]
        """)),
    ("ppe_map_squares.py", out("""
        Original Data: [1, 2, 3, 4, 5, 6, 7, 8, 9]
        Squared Data: [1, 4, 9, 16, 25, 36, 49, 64, 81]
        """)),
    ("ppe_submit.py", out("""
        15
        [0, 2, 4, 6]
        [0, 1, 8, 27, 64]
        futures done: True
        """)),
    ("futures_threads_processes.py",
     lines("Running with ThreadPoolExecutor...",
           *(f"Task {i} completed" for i in range(5)),
           "",
           "Running with ProcessPoolExecutor...",
           *(f"Task {i} completed" for i in range(5)),
           "",
           "Total execution time measured: True")),
    # --- multiprocessing ---
    ("process_hello.py", out("""
        hello from MainProcess
        hello from Process-1
        child exit code: 0
        """)),
    ("process_print_numbers.py",
     lines(*(f"Number: {i}" for i in range(5)), "Process finished!")),
    ("pool_map.py", "Squared results: [1, 4, 9, 16, 25]\n"),
    ("pool_map_unclosed.py", "[1, 4, 9, 16]\n"),
    ("mp_queue.py",
     lines(*(f"Consumed: {i}" for i in range(5)), "exit codes: 0 0")),
    ("mp_pipe.py", out("""
        Received: Hello from sender!
        exit codes: 0 0
        """)),
    ("mp_manager.py", out("""
        Shared List: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
        Shared Dict: {'p3': 10, 'p4': 10}
        exit codes: [0, 0, 0, 0]
        """)),
    # --- Cookbook chapter 1: do_something serial / threads / processes ---
    ("do_something.py", ""),  # the shared module: importing it prints nothing
    ("do_something_serial.py", out("""
        List processing complete.
        serial runs: 4
        every list has 100000 items: True
        time measured: True
        """)),
    ("do_something_threads.py", out("""
        List processing complete.
        threads: 4
        all threads finished: True
        lists filled in place (shared memory): True
        worker threads ran off the main thread: True
        time measured: True
        """)),
    ("do_something_processes.py", out("""
        List processing complete.
        processes: 4
        exit codes: [0, 0, 0, 0]
        parent's lists still empty (no shared memory): True
        time measured: True
        """)),
    # --- plain Python ---
    ("sum_of_squares.py", out("""
        333332833333500000
        matches closed form: True
        """)),
    ("python_basics.py", out("""
        first print
        second print
        third print
        4
        Hello Parallel Programming CookBook Second Edition!
        [1, ['item_1', 'item_1'], ('a', 'tuple')]
        ['item_1', -10000, 5.01]
        ('a', 'tuple') ['item_1', 'item_1'] item_1 5.01
        {'Key 1': 'item A', 'Key 2': 'item B', 3: 1000}
        item A item B 1000
        ['Hello', 'Ruvika', 'how', 'are', 'you?'] ['Hello'] ['how', 'are', 'you?']
        "she loves ' giancarlo"
        'I am a \\nmulti-line\\nstring'
        'I am unicode string'
        My name is Mr. Wolf !
        Positive number
        The sum is 83
        The sum is 55
        this is a function
        8638
        53
        25
        205
        Napoli
        Mumbai
        Amsterdam
        174
        50
        200
        10 10
        1500 10
        hello PACKT!!!!
        1528
        Oops, error.
        We finished.
        1 <= randomint <= 101: True
        1 <= randomint <= 102: True
        """)
     + "first line of file \nsecond line of file \n"
     + lines(list("python parallel programming cookbook!"),
             [10, 20, 30, 40, 50, 60, 70, 80, 90, 100])),
]


@pytest.mark.parametrize("script, expected", CASES, ids=[c[0] for c in CASES])
def test_seed_script(pyhost, tmp_path, script, expected):
    result = pyhost(["run", str(SEEDS / script)], timeout=TIMEOUT, cwd=tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected
    assert result.stderr == ""


def test_every_seed_script_is_covered():
    on_disk = {p.name for p in SEEDS.glob("*.py")}
    assert on_disk == {name for name, _ in CASES}


# The seeds' thread programs on free-threaded CPython (`--mode freethreaded`: the companion
# pyhost-ft), where their threads really run at once: the same output, exactly.
THREAD_PROGRAMS = {
    "thread_hello.py", "thread_workers.py", "thread_print_numbers.py", "lock_counter.py",
    "racy_counter.py", "rlock_recursive.py", "semaphore_limit.py", "semaphore_threads.py",
    "event_wait.py", "condition_producer_consumer.py", "queue_producer_consumer.py",
    "futures_threads_processes.py", "asyncio_gather.py", "asyncio_tasks.py", "asyncio_coroutine.py",
}


@pytest.mark.parametrize("script, expected", [c for c in CASES if c[0] in THREAD_PROGRAMS],
                         ids=[c[0] for c in CASES if c[0] in THREAD_PROGRAMS])
def test_seed_thread_program_without_the_gil(pyhost, tmp_path, script, expected):
    result = pyhost(["run", "--mode", "freethreaded", "--tasks", "1", str(SEEDS / script)],
                    timeout=TIMEOUT, cwd=tmp_path)
    if result.returncode == 3:
        pytest.skip("no free-threaded companion in this build: " + result.stderr.strip())
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected
    assert result.stderr == ""


def test_every_thread_program_is_a_seed():
    assert THREAD_PROGRAMS <= {name for name, _ in CASES}
