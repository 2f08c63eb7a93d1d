// The sandbox's seccomp filter: a hand-written classic-BPF deny list (about 60 syscalls), so that
// no library (libseccomp) is needed at build or run time for a fixed table this small. Denied
// calls fail with EPERM (the script gets PermissionError, not a kill); clone3 fails with ENOSYS
// so that the C library falls back to clone, whose flags a BPF filter can read (clone3's are
// behind a pointer it cannot follow).
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "sandbox/confine_steps.hpp"

namespace pyhost::sandbox {
namespace {

#if defined(__x86_64__)
constexpr std::uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr std::uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
#define PYHOST_NO_SECCOMP_ARCH 1
#endif

// What a script never needs: tracing, mounts and namespaces, kernel modules and kexec, BPF and
// perf, keyrings, the clock, swap, reboot, raw I/O ports, handles that bypass paths, io_uring
// (its operations bypass this filter).
const std::vector<long>& denied() {
  static const std::vector<long> calls = {
#define D(name) SYS_##name,
      D(ptrace) D(process_vm_readv) D(process_vm_writev) D(kcmp) D(pidfd_getfd) D(mount) D(umount2)
          D(pivot_root) D(chroot) D(unshare) D(setns) D(fsopen) D(fsconfig) D(fsmount) D(fspick)
              D(move_mount) D(open_tree)
#ifdef SYS_mount_setattr
                  D(mount_setattr)
#endif
                      D(init_module) D(finit_module) D(delete_module) D(kexec_load)
                          D(kexec_file_load) D(bpf) D(perf_event_open) D(keyctl) D(add_key)
                              D(request_key) D(reboot) D(swapon) D(swapoff) D(acct) D(settimeofday)
                                  D(clock_settime) D(clock_adjtime) D(adjtimex) D(syslog)
                                      D(quotactl) D(open_by_handle_at) D(name_to_handle_at)
                                          D(userfaultfd) D(io_uring_setup) D(io_uring_enter)
                                              D(io_uring_register) D(vhangup) D(sethostname)
                                                  D(setdomainname) D(fanotify_init) D(personality)
#ifdef __x86_64__
                                                      D(iopl) D(ioperm) D(uselib) D(ustat) D(sysfs)
                                                          D(create_module) D(get_kernel_syms)
                                                              D(query_module) D(nfsservctl)
                                                                  D(lookup_dcookie)
#endif
#undef D
  };
  return calls;
}

// (CLONE_NEWTIME shares its bit with clone's exit signal: only clone3 and unshare take it, and
// both are refused.)
constexpr std::uint32_t kNewNamespaces = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
                                         CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;

}  // namespace

bool install_seccomp_filter(std::string& why) {
#ifdef PYHOST_NO_SECCOMP_ARCH
  why = "no seccomp filter for this architecture";
  return false;
#else
  const auto errno_ret = [](int error) {
    return static_cast<std::uint32_t>(SECCOMP_RET_ERRNO | (error & SECCOMP_RET_DATA));
  };
  std::vector<sock_filter> prog;
  auto stmt = [&](std::uint16_t code, std::uint32_t k) { prog.push_back(BPF_STMT(code, k)); };
  auto jump = [&](std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
    prog.push_back(BPF_JUMP(code, k, jt, jf));
  };
  // Another architecture's calls (int 0x80 on x86-64) get numbers of their own: refuse them all.
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch));
  jump(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0);
  stmt(BPF_RET | BPF_K, errno_ret(EPERM));
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr));
#ifdef __x86_64__
  jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000 /* __X32_SYSCALL_BIT */, 0, 1);
  stmt(BPF_RET | BPF_K, errno_ret(EPERM));
#endif
  for (long nr : denied()) {
    jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(nr), 0, 1);
    stmt(BPF_RET | BPF_K, errno_ret(EPERM));
  }
  jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
  stmt(BPF_RET | BPF_K, errno_ret(ENOSYS));
  // clone: threads and forks yes, new namespaces no (flags: the low word of argument 0).
  jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0]));
  jump(BPF_JMP | BPF_JSET | BPF_K, kNewNamespaces, 0, 1);
  stmt(BPF_RET | BPF_K, errno_ret(EPERM));
  stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);

  sock_fprog program{static_cast<unsigned short>(prog.size()), prog.data()};
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
    why = std::string("seccomp filter: ") + std::strerror(errno);
    return false;
  }
  return true;
#endif
}

}  // namespace pyhost::sandbox
