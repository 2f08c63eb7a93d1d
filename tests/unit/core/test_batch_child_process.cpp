// ChildProcess: exit codes, signals, CPU time, files, env, cwd, process groups, RAII cleanup.
#include "batch/child_process.hpp"
#include "util/files.hpp"

#include "batch_test_util.hpp"
#include "util/process_info.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

namespace pyhost::batch {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;

class ChildProcessTest : public ::testing::Test {
 protected:
  LaunchSpec sh(const std::string& script) {
    LaunchSpec s;
    s.exe = "/bin/sh";
    s.args = {"-c", script};
    s.cwd = dir_.path();
    s.stdout_path = dir_.path() / "out";
    s.stderr_path = dir_.path() / "err";
    return s;
  }
  std::string out() { return read_file(dir_.path() / "out"); }
  std::string err() { return read_file(dir_.path() / "err"); }
  ScratchDir dir_;
};

bool alive(pid_t pid) {
  return ::kill(pid, 0) == 0;
}

// Gone or a zombie (an orphan's reaper, e.g. PID 1 of a container, may never reap it).
bool dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, comm, state;
  if (!(stat >> pid_field >> comm >> state)) return true;
  return state == "Z" || state == "X";
}

TEST_F(ChildProcessTest, ExitCodeAndOutputFiles) {
  ChildProcess c = launch_job(sh("echo hi; echo oops >&2; exit 3"));
  EXPECT_TRUE(c.running());
  ExitStatus e = c.wait();
  EXPECT_EQ(e.exit_code, 3);
  EXPECT_EQ(e.signal, 0);
  EXPECT_FALSE(c.running());
  EXPECT_EQ(out(), "hi\n");
  EXPECT_EQ(err(), "oops\n");
}

TEST_F(ChildProcessTest, OutputFilesAreTruncated) {
  dir_.write("out", "old old old old\n");
  launch_job(sh("echo new")).wait();
  EXPECT_EQ(out(), "new\n");
}

TEST_F(ChildProcessTest, ArgumentsAreNotInterpretedByAShell) {
  LaunchSpec s = sh("printf '%s|' \"$0\" \"$@\"");
  s.args.insert(s.args.end(), {"zero", "two words", "$HOME", "*"});
  launch_job(s).wait();
  EXPECT_EQ(out(), "zero|two words|$HOME|*|");
}

TEST_F(ChildProcessTest, EnvironmentCwdAndStdin) {
  LaunchSpec s = sh("echo \"$BATCH_X\"; pwd; cat; echo \"[$PATH]\" | grep -c /");
  s.env["BATCH_X"] = "value with spaces";
  std::filesystem::create_directories(dir_.path() / "sub");
  s.cwd = dir_.path() / "sub";
  launch_job(s).wait();
  std::string expected =
      "value with spaces\n" + std::filesystem::canonical(dir_.path() / "sub").string() + "\n1\n";
  EXPECT_EQ(out(), expected) << "stdin is /dev/null; the rest of the environment is inherited";
}

TEST_F(ChildProcessTest, KilledBySignal) {
  ExitStatus e = launch_job(sh("kill -SEGV $$")).wait();
  EXPECT_FALSE(e.exit_code.has_value());
  EXPECT_EQ(e.signal, SIGSEGV);
  EXPECT_EQ(signal_name(SIGSEGV), "SIGSEGV");
  EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
}

TEST_F(ChildProcessTest, CpuTimeIsTheChildsOwn) {
  ExitStatus e =
      launch_job(sh("i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")).wait();
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_GT(e.cpu_s, 0.05);
  ExitStatus idle = launch_job(sh("exit 0")).wait();
  EXPECT_LT(idle.cpu_s, e.cpu_s) << "not the sum over all children";
}

TEST_F(ChildProcessTest, TryWaitDoesNotBlock) {
  ChildProcess c = launch_job(sh("sleep 30"));
  EXPECT_FALSE(c.try_wait().has_value());
  c.signal_group(SIGTERM);
  ExitStatus e = c.wait();
  EXPECT_EQ(e.signal, SIGTERM);
}

TEST_F(ChildProcessTest, OwnProcessGroupReachesGrandchildren) {
  ChildProcess c = launch_job(sh("sleep 30 & echo $! > grandchild; wait"));
  EXPECT_EQ(::getpgid(c.pid()), c.pid());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string pid_text;
  while (pid_text.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (std::filesystem::exists(dir_.path() / "grandchild"))
      pid_text = read_file(dir_.path() / "grandchild");
    if (!pid_text.empty() && pid_text.back() != '\n') pid_text.clear();  // not fully written
  }
  ASSERT_FALSE(pid_text.empty());
  pid_t grandchild = std::stoi(pid_text);
  c.signal_group(SIGKILL);
  c.wait();
  // The grandchild was re-parented (to init or a subreaper) and reaped there.
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!dead(grandchild) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(dead(grandchild));
}

TEST_F(ChildProcessTest, DestructorKillsAndReaps) {
  pid_t pid;
  {
    ChildProcess c = launch_job(sh("sleep 30"));
    pid = c.pid();
  }
  EXPECT_FALSE(alive(pid)) << "killed and reaped, not a zombie";
}

TEST_F(ChildProcessTest, MoveKeepsOwnership) {
  ChildProcess a = launch_job(sh("exit 4"));
  ChildProcess b = std::move(a);
  EXPECT_FALSE(a.running());  // NOLINT(bugprone-use-after-move): moved-from is defined empty
  EXPECT_EQ(b.wait().exit_code, 4);
}

TEST_F(ChildProcessTest, LaunchErrorsThrowClearly) {
  LaunchSpec missing = sh("exit 0");
  missing.exe = dir_.path() / "no-such-program";
  try {
    launch_job(missing);
    FAIL() << "launched a missing program";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("no-such-program"));
  }
  LaunchSpec bad_cwd = sh("exit 0");
  bad_cwd.cwd = dir_.path() / "missing-dir";
  EXPECT_THROW(launch_job(bad_cwd), std::runtime_error);
  LaunchSpec bad_out = sh("exit 0");
  bad_out.stdout_path = dir_.path() / "missing-dir" / "out";
  EXPECT_THROW(launch_job(bad_out), std::runtime_error);
}

}  // namespace
}  // namespace pyhost::batch
