// The embedding core: one PythonRuntime for the whole test process (CPython cannot be
// re-initialised reliably), created on the main thread, which holds the GIL between tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "pyhost/interpreter.hpp"
#include "pyhost/py_ref.hpp"
#include "pyhost/python_error.hpp"
#include "pyhost/run.hpp"
#include "pyhost/thread_state.hpp"

namespace pyhost {
namespace {

PythonRuntime* g_runtime = nullptr;

class RuntimeEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { g_runtime = new PythonRuntime(); }
  void TearDown() override {
    EXPECT_EQ(g_runtime->finalize(), 0);
    delete g_runtime;
  }
};

RunPlan code_plan(std::string mode, int workers, int tasks, std::string code) {
  RunPlan plan;
  plan.mode = mode;
  plan.workers = workers;
  plan.tasks = tasks;
  plan.target = {TaskTarget::Kind::Code, std::move(code), {}};
  plan.record_output = true;
  return plan;
}

// Evaluates an expression in the current interpreter (GIL held) and returns it as a long.
long eval_long(const char* expression) {
  PyRef globals = PyRef::steal(PyDict_New());
  PyRef value = PyRef::steal(PyRun_String(expression, Py_eval_input, globals.get(), globals.get()));
  if (!value) throw_python_error("eval");
  return PyLong_AsLong(value.get());
}

TEST(PyRef, OwnsExactlyOneReference) {
  PyRef list = PyRef::steal(PyList_New(0));
  ASSERT_TRUE(list);
  const Py_ssize_t before = Py_REFCNT(list.get());
  {
    PyRef other = PyRef::borrow(list.get());
    EXPECT_EQ(Py_REFCNT(list.get()), before + 1);
    PyRef moved = std::move(other);
    EXPECT_FALSE(other);
    EXPECT_EQ(Py_REFCNT(list.get()), before + 1);
  }
  EXPECT_EQ(Py_REFCNT(list.get()), before);
}

TEST(PythonError, NamesTypeAndMessage) {
  PyErr_SetString(PyExc_ValueError, "bad value");
  EXPECT_EQ(fetch_python_error("ctx"), "ctx: ValueError: bad value");
  EXPECT_FALSE(PyErr_Occurred());
  EXPECT_EQ(fetch_python_error("ctx"), "ctx: unknown error");
}

TEST(Runtime, DescribesThePythonItEmbeds) {
  const PythonInfo& info = g_runtime->info();
  EXPECT_EQ(info.version, PY_VERSION);
  EXPECT_FALSE(info.executable.empty());
  EXPECT_EQ(eval_long("__import__('sys').version_info[0]"), 3);
}

TEST(Runtime, ThreadStateOnAnotherThreadRunsPython) {
  long value = 0;
  {
    GilRelease main_waits;
    std::thread worker([&] {
      ThreadState tstate(g_runtime->main_interpreter());
      GilHold gil(tstate.get());
      value = eval_long("6 * 7");
    });
    worker.join();
  }
  EXPECT_EQ(value, 42);
}

TEST(SubInterpreter, HasItsOwnModulesAndCanBeEndedAndRecreated) {
  std::vector<long> seen;
  {
    GilRelease main_waits;
    std::thread worker([&] {
      for (int round = 0; round < 3; ++round) {
        SubInterpreter interpreter(*g_runtime);
        GilHold gil(interpreter.thread_state());
        // A fresh interpreter: the attribute set by the previous round is gone.
        seen.push_back(
            eval_long("(lambda s: (setattr(s, 'mark', getattr(s, 'mark', 0) + 1), "
                      "s.mark)[1])(__import__('sys'))"));
      }
    });
    worker.join();
  }
  EXPECT_EQ(seen, (std::vector<long>{1, 1, 1}));
}

TEST(SubInterpreter, ManyCreatedAndEndedConcurrently) {
  std::atomic<int> ok{0};
  {
    GilRelease main_waits;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 3; ++i) {
          SubInterpreter interpreter(*g_runtime);
          GilHold gil(interpreter.thread_state());
          if (eval_long("sum(range(1000))") == 499500) ++ok;
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }
  EXPECT_EQ(ok.load(), 12);
}

// pyhost::run with a runtime the application made: it is used, and left running.
class ModeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ModeTest, RunsEveryTaskWithItsOwnResult) {
  RunPlan plan = code_plan(GetParam(), 2, 5,
                           "import pyhost, sys\n"
                           "print('task', pyhost.task_id, pyhost.mode)\n"
                           "sys.exit(pyhost.task_id % 2)\n");
  RunResult result = run(plan);
  ASSERT_EQ(result.tasks.size(), 5u);
  EXPECT_EQ(result.mode, GetParam());
  for (int k = 0; k < 5; ++k) {
    const TaskResult& task = result.tasks[static_cast<std::size_t>(k)];
    EXPECT_EQ(task.id, k);
    EXPECT_EQ(task.exit_code, k % 2);
    EXPECT_EQ(task.status, k % 2 ? TaskStatus::Failed : TaskStatus::Ok);
    EXPECT_EQ(task.stdout_text, "task " + std::to_string(k) + " " + GetParam() + "\n");
    EXPECT_GE(task.worker, 0);
    EXPECT_LT(task.worker, 2);
    EXPECT_LE(task.start_s, task.end_s);
  }
  EXPECT_FALSE(result.all_ok());
}

TEST_P(ModeTest, ExceptionBecomesExitCodeOneWithTraceback) {
  RunResult result = run(code_plan(GetParam(), 1, 2, "raise RuntimeError('no')"));
  for (const TaskResult& task : result.tasks) {
    EXPECT_EQ(task.exit_code, 1);
    EXPECT_NE(task.stderr_text.find("RuntimeError: no"), std::string::npos) << task.stderr_text;
  }
}

// Regression: every threads-mode worker used to re-install sys.stdout while others printed,
// freeing the stream under print()'s borrowed reference (a crash every few runs on 3.13).
TEST_P(ModeTest, RepeatedRunsWithHeavyPrintingStayHealthy) {
  for (int round = 0; round < 8; ++round) {
    RunResult result = run(code_plan(GetParam(), 4, 8,
                                     "import pyhost\n"
                                     "class Box: pass\n"
                                     "for i in range(200):\n"
                                     "    b = Box(); b.i = i\n"
                                     "    try:\n"
                                     "        b.missing\n"
                                     "    except AttributeError:\n"
                                     "        pass\n"
                                     "    print(pyhost.task_id, i)\n"));
    ASSERT_TRUE(result.all_ok()) << "round " << round;
    for (const TaskResult& task : result.tasks)
      EXPECT_EQ(std::count(task.stdout_text.begin(), task.stdout_text.end(), '\n'), 200);
  }
  EXPECT_GE(eval_long("__import__('gc').collect()"), 0);
}

std::vector<std::string> in_process_modes() {
  std::vector<std::string> names;
  for (const auto& mode : all_modes())
    if (mode.backend == Backend::InProcess) names.emplace_back(mode.name);
  return names;
}

TEST(ModeTable, InProcessModesAreTheOnesThisTestCovers) {
  EXPECT_EQ(in_process_modes(), (std::vector<std::string>{"serial", "threads", "subinterpreters"}));
}

TEST(RunApi, BadPlansAreErrorsNotCrashes) {
  EXPECT_THROW(run(code_plan("no-such-mode", 1, 1, "pass")), PlanError);
  RunPlan missing = code_plan("serial", 1, 1, "");
  missing.target = {TaskTarget::Kind::Script, "/nonexistent/script.py", {}};
  EXPECT_THROW(run(missing), PlanError);
  // The runtime the application made is still usable.
  EXPECT_EQ(eval_long("6 * 7"), 42);
}

INSTANTIATE_TEST_SUITE_P(AllInProcessModes, ModeTest, ::testing::ValuesIn(in_process_modes()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pyhost

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new pyhost::RuntimeEnvironment);
  return RUN_ALL_TESTS();
}
