// util/child_process: how every child of pyhost starts and ends (workers, the companion, compare's
// and batch's children, the kernel engine's compiler).
#include "util/child_process.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>

#include "util/unique_fd.hpp"

namespace pyhost {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

ChildSpec sh(const std::string& script) {
  ChildSpec spec;
  spec.exe = "/bin/sh";
  spec.args = {"-c", script};
  return spec;
}

TEST(ChildProcess, AProgramThatCannotStartIsAnExceptionNamingIt) {
  ChildSpec spec;
  spec.exe = "/no/such/program";
  try {
    ChildProcess::start(spec);
    FAIL() << "started a program that does not exist";
  } catch (const std::runtime_error& error) {
    EXPECT_THAT(error.what(), HasSubstr("cannot start /no/such/program"));
    EXPECT_THAT(error.what(), HasSubstr("No such file or directory"));
  }
  ChildSpec bad_cwd = sh("exit 0");
  bad_cwd.cwd = "/no/such/dir";
  EXPECT_THROW(ChildProcess::start(bad_cwd), std::runtime_error);
}

TEST(ChildProcess, ExitCodeSignalAndDescription) {
  ExitStatus seven = ChildProcess::start(sh("exit 7")).wait();
  EXPECT_EQ(seven.exit_code, 7);
  EXPECT_EQ(seven.describe(), "exited with status 7");
  EXPECT_EQ(seven.shell_code(), 7);
  ExitStatus segv = ChildProcess::start(sh("kill -SEGV $$")).wait();
  EXPECT_FALSE(segv.exit_code.has_value());
  EXPECT_EQ(segv.describe(), "killed by SIGSEGV");
  EXPECT_EQ(segv.shell_code(), 128 + SIGSEGV);
}

TEST(ChildProcess, EnvironmentIsInheritedLessUnsetPlusSet) {
  ::setenv("PYHOST_TEST_KEEP", "kept", 1);
  ::setenv("PYHOST_TEST_DROP", "secret", 1);
  ChildSpec spec =
      sh("printf '%s|%s|%s' \"$PYHOST_TEST_KEEP\" \"${PYHOST_TEST_DROP-unset}\" \"$NEW\"");
  spec.unset_env = {"PYHOST_TEST_DROP"};
  spec.set_env = {{"NEW", "new value"}};
  CapturedRun run = run_captured(spec, 30s, false);
  EXPECT_EQ(run.output, "kept|unset|new value");
}

// fds given crosswise (the child's 3 is this process's 4's file and the other way round) land
// where asked: a naive dup2 in order would overwrite one source with the other.
TEST(ChildProcess, FileDescriptorsAreMappedEvenCrosswise) {
  int a[2], b[2];
  ASSERT_EQ(::pipe2(a, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(b, O_CLOEXEC), 0);
  UniqueFd a_read(a[0]), a_write(a[1]), b_read(b[0]), b_write(b[1]);
  // Put the write ends at 3 and 4 of the child, swapped.
  ChildSpec spec = sh("echo to-a >&4; echo to-b >&3");
  spec.fds = {{3, b_write.get()}, {4, a_write.get()}};
  ChildProcess child = ChildProcess::start(spec);
  a_write.reset();
  b_write.reset();
  EXPECT_EQ(child.wait().exit_code, 0);
  char buffer[32] = {};
  ASSERT_GT(::read(a_read.get(), buffer, sizeof buffer - 1), 0);
  EXPECT_STREQ(buffer, "to-a\n");
  char other[32] = {};
  ASSERT_GT(::read(b_read.get(), other, sizeof other - 1), 0);
  EXPECT_STREQ(other, "to-b\n");
}

TEST(ChildProcess, WaitUntilReturnsAtTheDeadlineAndTerminateEndsIt) {
  ChildProcess child = ChildProcess::start(sh("exec sleep 30"));
  const auto start = ChildProcess::Clock::now();
  EXPECT_FALSE(child.wait_until(start + 100ms).has_value());
  EXPECT_GE(ChildProcess::Clock::now() - start, 100ms);
  child.terminate(5s);
  ASSERT_TRUE(child.await_exit(ChildProcess::Clock::now() + 10s));
  // Exited but not reaped: the pid stays taken until wait().
  EXPECT_TRUE(child.running());
  EXPECT_EQ(::kill(child.pid(), 0), 0);
  EXPECT_EQ(child.wait().signal, SIGTERM);
  EXPECT_FALSE(child.running());
}

TEST(ChildProcess, SignalsAfterReapingReachNobody) {
  ChildProcess child = ChildProcess::start(sh("exit 0"));
  const pid_t pid = child.pid();
  child.wait();
  EXPECT_EQ(child.pid(), -1);
  child.signal(SIGKILL);  // must not signal `pid`, which the system may have given to another
  (void)pid;
  EXPECT_EQ(child.exit_status()->exit_code, 0);
}

TEST(ChildProcess, OwnerGoingKillsAndReapsTheGroup) {
  pid_t pid = 0;
  {
    ChildSpec spec = sh("sleep 30 & wait");
    spec.own_process_group = true;
    ChildProcess child = ChildProcess::start(spec);
    pid = child.pid();
  }
  EXPECT_NE(::kill(pid, 0), 0) << "killed and reaped, not a zombie";
}

TEST(RunCaptured, ReadsOutputAndKillsAtTheTimeout) {
  CapturedRun both = run_captured(sh("echo out; echo err >&2"), 30s, true);
  EXPECT_EQ(both.output, "out\nerr\n");
  EXPECT_EQ(both.status.exit_code, 0);
  CapturedRun quiet = run_captured(sh("echo out; echo err >&2"), 30s, false);
  EXPECT_EQ(quiet.output, "out\n");
  CapturedRun slow = run_captured(sh("exec sleep 30"), 200ms, false);
  EXPECT_TRUE(slow.timed_out);
  EXPECT_EQ(slow.status.signal, SIGKILL);
}

}  // namespace
}  // namespace pyhost
