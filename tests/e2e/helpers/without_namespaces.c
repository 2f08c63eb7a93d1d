/* without_namespaces COMMAND [ARGS...]: runs COMMAND as on a machine that has neither user
 * namespaces nor Landlock (a hardened distribution, an old kernel, a container that forbids them),
 * so that tests can see what `--sandbox` and `--sandbox-best-effort` do there. A seccomp filter,
 * inherited by everything COMMAND starts, refuses unshare(2) and a clone(2) that asks for new
 * namespaces with EPERM (what an unprivileged process gets where user namespaces are off), clone3
 * with ENOSYS (the C library then falls back to clone, whose flags a filter can read), and the
 * Landlock calls with ENOSYS (a kernel built without it). Everything else is allowed. */
#define _GNU_SOURCE /* CLONE_NEW* of <sched.h> */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __x86_64__
#error "without_namespaces: the filter is written for x86-64"
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define RET(value) BPF_STMT(BPF_RET | BPF_K, (value))
#define REFUSE(error) RET(SECCOMP_RET_ERRNO | ((error) & SECCOMP_RET_DATA))
/* if nr == call: return error (two instructions) */
#define CALL_FAILS(call, error) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (call), 0, 1), REFUSE(error)

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: without_namespaces COMMAND [ARGS...]\n");
    return 2;
  }
  const unsigned new_namespaces = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
                                  CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
  struct sock_filter program[] = {
      LOAD(arch),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      RET(SECCOMP_RET_ALLOW), /* not ours to judge */
      LOAD(nr),
      CALL_FAILS(SYS_unshare, EPERM),
      CALL_FAILS(SYS_clone3, ENOSYS),
      CALL_FAILS(SYS_landlock_create_ruleset, ENOSYS),
      CALL_FAILS(SYS_landlock_add_rule, ENOSYS),
      CALL_FAILS(SYS_landlock_restrict_self, ENOSYS),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3),
      LOAD(args[0]),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, new_namespaces, 0, 1),
      REFUSE(EPERM),
      RET(SECCOMP_RET_ALLOW),
  };
  struct sock_fprog filter = {sizeof program / sizeof program[0], program};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter) != 0) {
    fprintf(stderr, "without_namespaces: seccomp: %s\n", strerror(errno));
    return 125;
  }
  execvp(argv[1], argv + 1);
  fprintf(stderr, "without_namespaces: %s: %s\n", argv[1], strerror(errno));
  return 127;
}
