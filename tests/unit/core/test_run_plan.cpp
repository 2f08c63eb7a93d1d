// The run plan, its command-line form and the table of modes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "cli/run_words.hpp"
#include "backends/backend.hpp"
#include "pyhost/modes.hpp"
#include "pyhost/run.hpp"

namespace pyhost {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ModeTable, NamesAreUniqueAndThereIsOneBaseline) {
  std::set<std::string_view> names;
  int baselines = 0;
  for (const auto& mode : all_modes()) {
    EXPECT_TRUE(names.insert(mode.name).second) << mode.name;
    EXPECT_EQ(find_mode(mode.name), &mode);
    EXPECT_FALSE(mode.explanation.empty()) << mode.name;
    EXPECT_EQ(mode.colour.size(), 7u) << mode.name;
    baselines += mode.baseline;
  }
  EXPECT_EQ(baselines, 1);
  EXPECT_EQ(baseline_mode().name, "serial");
  EXPECT_EQ(find_mode("nope"), nullptr);
  EXPECT_EQ(mode_names(), "serial, threads, subinterpreters, processes, freethreaded");
}

TEST(ModeTable, GilWaitIsMeasurableOnlyForParallelInProcessModes) {
  EXPECT_FALSE(find_mode("serial")->gil_wait_measurable());
  EXPECT_TRUE(find_mode("threads")->gil_wait_measurable());
  EXPECT_TRUE(find_mode("subinterpreters")->gil_wait_measurable());
  EXPECT_FALSE(find_mode("processes")->gil_wait_measurable());
  EXPECT_TRUE(find_mode("threads")->one_gil);
  EXPECT_FALSE(find_mode("subinterpreters")->one_gil);
}

TEST(RunPlan, ResolvedFillsTheModesDefaults) {
  RunPlan plan;
  plan.target = {TaskTarget::Kind::Code, "pass", {}};
  RunPlan serial = plan.resolved(8);
  EXPECT_EQ(serial.workers, 1);
  EXPECT_EQ(serial.tasks, 1);
  EXPECT_TRUE(serial.is_plain_python());
  EXPECT_EQ(serial.effective_output(), OutputStyle::Passthrough);
  plan.mode = "subinterpreters";
  RunPlan sub = plan.resolved(8);
  EXPECT_EQ(sub.workers, 8);
  EXPECT_EQ(sub.tasks, 8);
  EXPECT_FALSE(sub.is_plain_python());
  EXPECT_EQ(sub.effective_output(), OutputStyle::Prefixed);
  plan.tasks = 3;
  EXPECT_EQ(plan.resolved(2).tasks, 3);
}

TEST(RunPlan, PlansThatCannotRunAreNamedErrors) {
  RunPlan plan;
  plan.mode = "fibers";
  plan.target = {TaskTarget::Kind::Code, "pass", {}};
  try {
    plan.resolved(2);
    FAIL();
  } catch (const PlanError& error) {
    EXPECT_THAT(error.what(), HasSubstr("unknown mode 'fibers' (serial, threads"));
  }
  plan.mode = "threads";
  plan.target = {TaskTarget::Kind::Script, "/nonexistent/x.py", {}};
  try {
    plan.resolved(2);
    FAIL();
  } catch (const PlanError& error) {
    EXPECT_THAT(error.what(), HasSubstr("can't open file '/nonexistent/x.py'"));
  }
  plan.target = {TaskTarget::Kind::Module, "", {}};
  EXPECT_THROW(plan.resolved(2), PlanError);
}

TEST(RunPlan, ToArgvLeavesDefaultsOutAndSpellsEveryOption) {
  RunPlan plan;
  plan.target = {TaskTarget::Kind::Module, "pkg.mod", {"-x", "1"}};
  EXPECT_THAT(plan.to_argv(), ElementsAre("run", "--mode", "serial", "-m", "pkg.mod", "-x", "1"));
  plan.mode = "processes";
  plan.workers = 2;
  plan.tasks = 5;
  plan.output = OutputStyle::Grouped;
  plan.timeout_s = 1.5;
  plan.kill_after_s = 0.25;
  plan.memory_limit_mb = 64;
  plan.fresh_workers = true;
  plan.target = {TaskTarget::Kind::Code, "print(1)", {}};
  EXPECT_THAT(
      plan.to_argv("r.json"),
      ElementsAre("run", "--mode", "processes", "--workers", "2", "--tasks", "5", "--output",
                  "grouped", "--timeout", "1.5", "--kill-after", "0.25", "--memory-limit", "64",
                  "--fresh-workers", "--json", "r.json", "-c", "print(1)"));
}

TEST(RunPlan, ToArgvSpellsTheEngineScheduleJournalAndResume) {
  RunPlan plan;
  plan.target = {TaskTarget::Kind::Code, "pass", {}};
  plan.engine = Engine::Mpi;
  plan.journal_path = "j.jsonl";
  plan.resume_path = "j.jsonl";
  EXPECT_THAT(plan.to_argv(), ElementsAre("run", "--mode", "serial", "--engine", "mpi", "--journal",
                                          "j.jsonl", "--resume", "j.jsonl", "-c", "pass"));
  plan.schedule = Schedule::Static;
  EXPECT_THAT(plan.to_argv(),
              ElementsAre("run", "--mode", "serial", "--engine", "mpi", "--schedule", "static",
                          "--journal", "j.jsonl", "--resume", "j.jsonl", "-c", "pass"));
}

TEST(RunPlan, ScheduleWithoutMpiIsAPlanError) {
  RunPlan plan;
  plan.target = {TaskTarget::Kind::Code, "pass", {}};
  plan.schedule = Schedule::Static;
  EXPECT_THROW((void)plan.resolved(2), PlanError);
  plan.engine = Engine::Mpi;
  EXPECT_NO_THROW((void)plan.resolved(2));
}

TEST(RunPlan, EnginesAndSchedulesHaveTheirCommandLineNames) {
  EXPECT_EQ(to_string(Engine::Local), "local");
  EXPECT_EQ(to_string(Engine::Mpi), "mpi");
  EXPECT_EQ(to_string(Schedule::Dynamic), "dynamic");
  EXPECT_EQ(to_string(Schedule::Static), "static");
}

TEST(RunPlan, ToArgvSplitsBackIntoTheSameOptionsAndTarget) {
  // What compare and batch pass to a child `pyhost run` is read back by the CLI's splitter:
  // a script whose name and arguments look like options stays the script's.
  RunPlan plan;
  plan.mode = "threads";
  plan.workers = 2;
  plan.target = {TaskTarget::Kind::Script, "-odd-name.py", {"--tasks", "9"}};
  std::vector<std::string> words = {"--log-level", "warn"};
  for (auto& word : plan.to_argv("out.json")) words.push_back(word);
  cli::RunWords split = cli::split_run_words(words);
  EXPECT_THAT(split.target, ElementsAre("-odd-name.py", "--tasks", "9"));
  EXPECT_THAT(split.options, ElementsAre("--log-level", "warn", "run", "--mode", "threads",
                                         "--workers", "2", "--json", "out.json"));
}

}  // namespace
}  // namespace pyhost

namespace pyhost {
namespace {

// A backend that takes no feed (the free-threaded companion of the default build) cannot be one
// rank's share of an MPI run: refused before anything runs, never results lost.
TEST(BackendCheck, MpiWithABackendThatTakesNoFeedIsRefused) {
  RunPlan plan;
  plan.mode = "freethreaded";
  plan.target = {TaskTarget::Kind::Code, "pass", {}};
  plan.engine = Engine::Mpi;
  const BackendTraits companion{.needs_runtime = false, .takes_feed = false,
                                .hands_on_whole_plan = true};
  try {
    check_plan_for_backend(plan, plan.mode_info(), companion);
    FAIL() << "accepted";
  } catch (const PlanError& error) {
    EXPECT_THAT(error.what(), ::testing::HasSubstr("--engine mpi cannot run --mode freethreaded"));
    EXPECT_THAT(error.what(), ::testing::HasSubstr("pyhost-ft run --engine mpi"));
  }
  plan.engine = Engine::Local;
  plan.resume_path = "journal.jsonl";  // goes on to the companion with the plan
  EXPECT_NO_THROW(check_plan_for_backend(plan, plan.mode_info(), companion));
  const BackendTraits no_feed{.needs_runtime = false, .takes_feed = false,
                              .hands_on_whole_plan = false};
  EXPECT_THROW(check_plan_for_backend(plan, plan.mode_info(), no_feed), PlanError);
  EXPECT_NO_THROW(check_plan_for_backend(plan, plan.mode_info(), BackendTraits{}));
}

}  // namespace
}  // namespace pyhost
