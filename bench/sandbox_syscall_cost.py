"""What one system call costs under the sandbox's kernel mechanisms (bench/bench_sandbox.py
--syscalls runs it; bench/RESULTS.md, the --sandbox section).

As a pyhost task (`pyhost run [--sandbox --sandbox-reuse-workers] bench/sandbox_syscall_cost.py`)
it times the loops in the worker as it is. As a plain script it first confines itself the way
named, then times the same loops: the peer, the kernel's mechanisms without pyhost.
  python bench/sandbox_syscall_cost.py --confine none|seccomp-1|seccomp-60|landlock|landlock+seccomp-60
seccomp-1: a filter of one instruction (allow); seccomp-60: an arch check and 60 compare-and-deny
pairs before the allow, as long as pyhost's deny list (host/sandbox/seccomp_filter.cpp; the
numbers here are ones no program calls); landlock: every right of ABI 1-3 handled, reads allowed
beneath /usr, /etc, /proc, the interpreter's prefixes and this directory (pyhost's rules have
that shape). Prints one line of JSON: nanoseconds a call, the best of 5 rounds of each loop.
"""
import ctypes
import json
import os
import struct
import sys
import time

N = 100_000
PATH = os.__file__  # a file in the interpreter's prefix, a few directories deep


def best_ns(loop, calls):
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        loop()
        best = min(best, time.perf_counter() - started)
    return best / calls * 1e9


def getppid_loop():
    call = os.getppid
    for _ in range(N):
        call()


def stat_loop():
    stat = os.stat
    for _ in range(N):
        stat(PATH)


def open_close_loop():
    open_, close, flags = os.open, os.close, os.O_RDONLY
    for _ in range(N // 4):
        close(open_(PATH, flags))


def empty_loop():
    for _ in range(N):
        pass


def measure():
    return {
        "empty_loop_ns": best_ns(empty_loop, N),
        "getppid_ns": best_ns(getppid_loop, N),
        "stat_ns": best_ns(stat_loop, N),
        "open_close_ns": best_ns(open_close_loop, N // 4),
    }


libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def check(result, what):
    if result < 0:
        raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")
    return result


def install_seccomp(denied):
    PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
    LD_W_ABS, JEQ_K, RET_K = 0x20, 0x15, 0x06
    ALLOW, ERRNO_EPERM = 0x7FFF0000, 0x00050000 | 1
    ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}[os.uname().machine]
    program = []
    if denied:
        program += [(LD_W_ABS, 0, 0, 4), (JEQ_K, 1, 0, ARCH), (RET_K, 0, 0, ERRNO_EPERM),
                    (LD_W_ABS, 0, 0, 0)]
        for nr in denied:
            program += [(JEQ_K, 0, 1, nr), (RET_K, 0, 0, ERRNO_EPERM)]
    program.append((RET_K, 0, 0, ALLOW))
    code = b"".join(struct.pack("HBBI", *insn) for insn in program)
    buffer = ctypes.create_string_buffer(code)

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(program), ctypes.addressof(buffer))
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog)), "seccomp")


def install_landlock():
    CREATE, ADD_RULE, RESTRICT = 444, 445, 446  # the same numbers on x86-64 and arm64
    handled = (1 << 15) - 1  # ABI 1-3: execute .. make_sym, refer, truncate
    abi = check(libc.syscall(CREATE, None, 0, 1), "landlock ABI")
    if abi < 3:
        handled = (1 << 13) - 1 | ((1 << 13) if abi >= 2 else 0)
    read = 1 | 4 | 8  # execute, read_file, read_dir
    attr = ctypes.c_uint64(handled)
    ruleset = check(libc.syscall(CREATE, ctypes.byref(attr), 8, 0), "landlock_create_ruleset")
    here = os.path.dirname(os.path.abspath(__file__))
    for path in {"/usr", "/etc", "/proc", "/dev", sys.prefix, sys.base_prefix, here}:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        rule = struct.pack("=Qi", read, fd)  # struct landlock_path_beneath_attr is packed
        check(libc.syscall(ADD_RULE, ruleset, 1, ctypes.c_char_p(rule), 0), f"rule {path}")
        os.close(fd)
    check(libc.prctl(38, 1, 0, 0, 0), "no_new_privs")
    check(libc.syscall(RESTRICT, ruleset, 0), "landlock_restrict_self")
    os.close(ruleset)


SECCOMP_60 = list(range(1000, 1060))  # numbers no kernel gives a call: never matched


def confine(how):
    if "landlock" in how:
        install_landlock()
    if "seccomp-60" in how:
        install_seccomp(SECCOMP_60)
    elif "seccomp-1" in how:
        install_seccomp([])


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--confine":
        if sys.argv[2] != "none":
            confine(sys.argv[2])
        print(json.dumps({"confine": sys.argv[2], **measure()}))
    elif len(sys.argv) == 1:
        print(json.dumps({"confine": "pyhost task", **measure()}))
    else:
        sys.exit(__doc__)
