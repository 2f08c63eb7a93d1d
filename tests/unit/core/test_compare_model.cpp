// `pyhost compare`: from run JSON to per-configuration measures, warnings and explanations.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string_view>

#include "compare_test_util.hpp"
#include "report/compare.hpp"

namespace pyhost::compare {
namespace {

using ::testing::HasSubstr;

RunResult run(const std::string& mode, int workers, std::vector<TaskResult> tasks,
              double wall = 0) {
  RunResult r;
  r.mode = mode;
  r.workers = workers;
  r.python = "3.13.0";
  r.tasks = std::move(tasks);
  r.wall_s = wall > 0 ? wall : task_span_s(r);
  r.peak_rss_kb = static_cast<long>(12.5 * 1024);
  for (int w = 0; w < workers; ++w) r.worker_info.push_back({w, 0.001});
  return r;
}

// Two CPU-bound tasks of 1 s each, measured `n` times with a little spread.
std::vector<RunResult> serial_cpu(int n = 3) {
  std::vector<RunResult> runs;
  for (int i = 0; i < n; ++i) {
    const double d = 0.01 * i;
    runs.push_back(run("serial", 1, {task(0, 0, 0, 1 + d, 1), task(1, 0, 1 + d, 2 + d, 1)}));
  }
  return runs;
}

// Two threads on one GIL: both in flight for 2 s, each on a CPU half of it.
std::vector<RunResult> threads_cpu(int n = 3) {
  std::vector<RunResult> runs;
  for (int i = 0; i < n; ++i) {
    const double d = 0.01 * i;
    runs.push_back(run("threads", 2, {task(0, 0, 0, 2 + d, 1), task(1, 1, 0, 2 + d, 1)}));
  }
  return runs;
}

// Two sub-interpreters side by side: 1 s each, on a CPU all the time.
std::vector<RunResult> subinterpreters_cpu(int n = 3) {
  std::vector<RunResult> runs;
  for (int i = 0; i < n; ++i) {
    const double d = 0.01 * i;
    runs.push_back(run("subinterpreters", 2, {task(0, 0, 0, 1 + d, 1), task(1, 1, 0, 1 + d, 1)}));
  }
  return runs;
}

Comparison compare(std::vector<std::pair<Config, std::vector<RunResult>>> configs, int cores = 2) {
  Comparison c;
  c.python = "3.13.0";
  c.cores = cores;
  c.script = "scripts/cpu_bound.py";
  c.tasks = 2;
  c.repeat = 3;
  c.warmup = 1;
  for (auto& [config, runs] : configs) c.results.push_back(analyse(config, runs));
  finish(c);
  return c;
}

// The mode by value (a view): GCC 13+ warns of a dangling reference when a function returning a
// reference is given a temporary std::string (-Wdangling-reference), as a literal would make.
const ConfigResult& find(const Comparison& c, std::string_view mode, int workers) {
  for (const auto& r : c.results)
    if (r.config.mode == mode && r.config.workers == workers) return r;
  throw std::runtime_error("no such configuration");
}

// Whether more than `times` warnings contain the text.
bool has_warning(const Comparison& c, const std::string& text, int times = 0) {
  int found = 0;
  for (const auto& w : c.warnings)
    if (w.find(text) != std::string::npos) ++found;
  return found > times;
}

TEST(CompareModel, OffCpuShareIsPerWorkerOverTheSumOfItsTasks) {
  // Worker 0 ran two tasks: walls 1 + 1, CPU 0.5 + 0.3, run queue 0.2 + 0 -> (2 - 0.8 - 0.2) / 2.
  // Worker 1 ran one: wall 1, CPU 0.9 -> 0.1. Averaged over the two threads: 0.3.
  const RunResult r =
      run("threads", 2, {task(0, 0, 0, 1, 0.5, 0.2), task(2, 0, 1, 2, 0.3), task(1, 1, 0, 1, 0.9)});
  EXPECT_NEAR(off_cpu_fraction(r), (0.5 + 0.1) / 2, 1e-12);
  EXPECT_NEAR(runq_fraction(r), 0.2 / 3, 1e-12);
  EXPECT_NEAR(cpu_share(r), 1.7 / 2.8, 1e-12);
  EXPECT_NEAR(runnable_parallelism(r), 1.9 / 2, 1e-12);
  EXPECT_NEAR(cpu_util(r), 1.7 / 2, 1e-12);
  EXPECT_DOUBLE_EQ(task_span_s(r), 2);
}

TEST(CompareModel, PlanPutsTheSerialBaselineFirst) {
  const auto configs = plan_configs({"threads", "subinterpreters", "threads"}, {2, 1, 2}, 2);
  ASSERT_EQ(configs.size(), 5u);
  EXPECT_EQ(configs[0], (Config{"serial", 1, 2}));
  EXPECT_EQ(configs[1], (Config{"threads", 1, 2}));
  EXPECT_EQ(configs[2], (Config{"threads", 2, 2}));
  EXPECT_EQ(configs[3], (Config{"subinterpreters", 1, 2}));
  EXPECT_EQ(configs[4], (Config{"subinterpreters", 2, 2}));
  EXPECT_EQ(plan_configs({"serial", "threads"}, {4}, 4).size(), 2u);
  EXPECT_EQ(configs[2].label(), "threads -j2");
  EXPECT_EQ(configs[0].label(), "serial");
}

TEST(CompareModel, ScheduleInterleavesConfigurationsAfterTheWarmups) {
  const auto steps = schedule(3, 2, 1);
  ASSERT_EQ(steps.size(), 9u);
  std::string order;
  for (const auto& s : steps)
    order.append(s.warmup ? "w" : "").append(std::to_string(s.config)).append(" ");
  EXPECT_EQ(order, "w0 w1 w2 0 1 2 0 1 2 ");
  EXPECT_EQ(steps[8].repeat, 1);
}

TEST(CompareModel, DriveDropsAnUnavailableModeAndKeepsTheRest) {
  const auto configs = plan_configs({"threads", "processes"}, {1, 2}, 2);
  std::vector<std::string> calls;
  const Runner runner = [&](const Config& c) {
    calls.push_back(c.label());
    RunOutcome out;
    if (c.mode == "processes") {
      out.kind = RunOutcome::Kind::Unavailable;
      out.message = "--mode processes is not available yet in this build";
      return out;
    }
    out.sample = run(c.mode, c.workers, {task(0, 0, 0, 1, 1), task(1, 0, 1, 2, 1)});
    return out;
  };
  const DriveResult result = drive(configs, 2, 1, runner);
  ASSERT_TRUE(result.ok);
  // processes is tried once (the first warmup), then left out.
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "processes -j1"), 1);
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "processes -j2"), 0);
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "threads -j2"), 3);
  ASSERT_EQ(result.runs.size(), 3u);
  for (const auto& [config, runs] : result.runs) EXPECT_EQ(runs.size(), 2u) << config.label();
  ASSERT_EQ(result.skipped.size(), 1u);
  EXPECT_THAT(result.skipped[0],
              HasSubstr("processes: skipped: --mode processes is not available"));
}

TEST(CompareModel, DriveStopsAtTheFirstFailureAndNamesTheConfiguration) {
  const auto configs = plan_configs({"threads"}, {2}, 2);
  int calls = 0;
  const Runner runner = [&](const Config& c) {
    ++calls;
    RunOutcome out;
    if (c.mode == "threads") {
      out.kind = RunOutcome::Kind::Failed;
      out.message = "task 1 failed (exit code 1)\n    ZeroDivisionError: division by zero";
    }
    return out;
  };
  const DriveResult result = drive(configs, 3, 0, runner);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(result.failed_config, "threads -j2");
  EXPECT_THAT(result.message, HasSubstr("threads -j2 failed (run 1 of 3)"));
  EXPECT_THAT(result.message, HasSubstr("ZeroDivisionError"));
}

TEST(CompareModel, CpuBoundThreadsWaitForTheGilAndSubinterpretersScale) {
  const Comparison c = compare({{{"serial", 1, 2}, serial_cpu()},
                                {{"threads", 2, 2}, threads_cpu()},
                                {{"subinterpreters", 2, 2}, subinterpreters_cpu()}});
  const ConfigResult& serial = find(c, "serial", 1);
  const ConfigResult& threads = find(c, "threads", 2);
  const ConfigResult& sub = find(c, "subinterpreters", 2);

  EXPECT_DOUBLE_EQ(*serial.speedup, 1);
  EXPECT_FALSE(serial.gil_wait);
  EXPECT_FALSE(serial.karp_flatt);

  EXPECT_NEAR(*threads.speedup, 1.0, 1e-9);
  EXPECT_NEAR(*threads.gil_wait, 0.5, 0.01);
  EXPECT_NEAR(*threads.karp_flatt, 1.0, 1e-9);
  EXPECT_NEAR(*threads.efficiency, 0.5, 1e-9);
  EXPECT_TRUE(threads.no_parallel_work);  // in flight together, one on a CPU at a time
  EXPECT_THAT(threads.no_parallel_reason, HasSubstr("took turns"));

  EXPECT_NEAR(*sub.speedup, 2.01 / 1.01, 1e-9);
  ASSERT_TRUE(sub.speedup_err);
  EXPECT_GT(*sub.speedup_err, 0);
  EXPECT_NEAR(*sub.gil_wait, 0, 0.02);
  EXPECT_NEAR(sub.cpu_util, 2.0 / 1.01, 1e-9);
  EXPECT_FALSE(sub.no_parallel_work);
  EXPECT_NEAR(*sub.karp_flatt, *stats::karp_flatt(*sub.speedup, 2), 1e-12);
  ASSERT_EQ(sub.timeline.size(), 2u);
  EXPECT_EQ(sub.timeline[1].worker, 1);
  EXPECT_EQ(sub.timeline_run, 1u);  // the median run

  ASSERT_TRUE(c.amdahl_serial_fraction.count("threads"));
  EXPECT_NEAR(c.amdahl_serial_fraction.at("threads"), 1.0, 1e-9);

  ASSERT_EQ(c.explanations.size(), 3u);
  EXPECT_THAT(c.explanations[1],
              HasSubstr("threads: 1.00x with 2 workers — 50 % of thread time waited for the GIL"));
  EXPECT_THAT(c.explanations[2], HasSubstr("subinterpreters: 1.99x"));
  ASSERT_EQ(c.verdicts.size(), 2u);  // against serial and threads
  EXPECT_THAT(c.verdicts[0], HasSubstr("subinterpreters -j2 ran 1.99 ± 0.0"));
  EXPECT_THAT(c.verdicts[0], HasSubstr("times faster than serial"));
  EXPECT_TRUE(has_warning(c, "threads -j2: did no parallel work"));
  EXPECT_FALSE(has_warning(c, "subinterpreters -j2: did no parallel work"));
}

TEST(CompareModel, RssPerWorkerIsAWorkerProcessOrTheMemoryOverSerial) {
  std::vector<RunResult> sub = subinterpreters_cpu();
  for (auto& r : sub) r.peak_rss_kb = static_cast<long>(20.5 * 1024);  // 2 workers: +8 MB
  std::vector<RunResult> processes;
  for (int i = 0; i < 3; ++i) {
    RunResult r = run("processes", 2, {task(0, 0, 0, 1, 1), task(1, 1, 0, 1, 1)});
    r.tasks[0].peak_rss_kb = (11 + i) * 1024;  // each worker process's own peak
    r.tasks[1].peak_rss_kb = 10 * 1024;
    processes.push_back(r);
  }
  const Comparison c = compare({{{"serial", 1, 2}, serial_cpu()},
                                {{"subinterpreters", 2, 2}, sub},
                                {{"processes", 2, 2}, processes}});
  EXPECT_FALSE(find(c, "serial", 1).rss_per_worker_mb);  // the baseline the others add to
  EXPECT_NEAR(*find(c, "subinterpreters", 2).rss_per_worker_mb, 4.0, 1e-9);
  EXPECT_NEAR(*find(c, "processes", 2).rss_per_worker_mb, 12.0, 1e-9);  // median of 11, 12, 13
}

TEST(CompareModel, TasksThatNeverOverlapDidNoParallelWork) {
  std::vector<RunResult> one_by_one;
  for (int i = 0; i < 3; ++i)
    one_by_one.push_back(
        run("subinterpreters", 2, {task(0, 0, 0, 1, 0.01), task(1, 1, 1, 2, 0.01)}));
  std::vector<RunResult> serial;
  for (int i = 0; i < 3; ++i)
    serial.push_back(run("serial", 1, {task(0, 0, 0, 1, 0.01), task(1, 0, 1, 2, 0.01)}));
  const Comparison c =
      compare({{{"serial", 1, 2}, serial}, {{"subinterpreters", 2, 2}, one_by_one}});
  EXPECT_TRUE(find(c, "subinterpreters", 2).no_parallel_work);
  EXPECT_TRUE(has_warning(
      c, "subinterpreters -j2: did no parallel work: its tasks never ran at the same time"));
  EXPECT_THAT(c.explanations[1], HasSubstr("ran one after another"));
}

TEST(CompareModel, WaitingThreadsOverlapAndAreNotBlamedOnTheGil) {
  std::vector<RunResult> serial, threads;
  for (int i = 0; i < 3; ++i) {
    serial.push_back(run("serial", 1, {task(0, 0, 0, 1, 0.01), task(1, 0, 1, 2, 0.01)}));
    threads.push_back(
        run("threads", 2, {task(0, 0, 0, 1.0 + 0.01 * i, 0.01), task(1, 1, 0, 1, 0.01)}));
  }
  const Comparison c = compare({{{"serial", 1, 2}, serial}, {{"threads", 2, 2}, threads}});
  const ConfigResult& t = find(c, "threads", 2);
  EXPECT_NEAR(*t.speedup, 2.0 / 1.01, 1e-9);
  EXPECT_FALSE(t.no_parallel_work);
  EXPECT_THAT(c.explanations[0], HasSubstr("the tasks mostly wait"));
  EXPECT_THAT(c.explanations[1], HasSubstr("overlap their waiting"));
  EXPECT_THAT(c.explanations[1], HasSubstr("not for the GIL"));
}

TEST(CompareModel, WarnsAboutUnstableRunsOutliersAndTooManyWorkers) {
  std::vector<RunResult> noisy;
  for (double wall : {1.0, 1.3, 1.0, 1.01, 0.99, 1.0})
    noisy.push_back(
        run("threads", 4, {task(0, 0, 0, wall, wall), task(1, 1, 0, wall, wall)}, wall));
  const Comparison c = compare({{{"serial", 1, 2}, serial_cpu()}, {{"threads", 4, 2}, noisy}});
  EXPECT_TRUE(has_warning(c, "threads -j4: unstable: the standard deviation is"));
  EXPECT_TRUE(has_warning(c,
                          "1 outlier run (modified Z-score > 3.5) more than 5 % off the "
                          "median, kept in the statistics: threads -j4 1.300 s (median 1.000 s)"));
  EXPECT_EQ(find(c, "threads", 4).wall.outliers.size(), 1u);
  // A run 2 % off tight neighbours is an outlier by the score, counted, but not worth a warning.
  std::vector<RunResult> tight;
  for (double wall : {1.0, 1.02, 1.0, 1.001, 0.999, 1.0})
    tight.push_back(
        run("threads", 2, {task(0, 0, 0, wall, wall), task(1, 1, 0, wall, wall)}, wall));
  const Comparison t = compare({{{"serial", 1, 2}, serial_cpu()}, {{"threads", 2, 2}, tight}});
  EXPECT_EQ(find(t, "threads", 2).wall.outliers.size(), 1u);
  EXPECT_FALSE(has_warning(t, "outlier"));
  EXPECT_TRUE(has_warning(c, "threads -j4: 4 workers on 2 cores"));
  EXPECT_FALSE(has_warning(c, "serial: unstable"));
}

TEST(CompareModel, WithoutRunQueueDelaysTurnTakingIsOnlyJudgedOnAQuietMachine) {
  // processes that report no run-queue delay, squeezed onto one CPU by other programs: they look
  // like tasks that took turns, but the busy machine (seen in the threads runs) explains it.
  std::vector<RunResult> squeezed, busy_threads;
  for (int i = 0; i < 3; ++i) {
    squeezed.push_back(run("processes", 2, {task(0, 0, 0, 1, 0.5), task(1, 1, 0, 1, 0.5)}));
    busy_threads.push_back(
        run("threads", 2, {task(0, 0, 0, 2, 0.6, 0.9), task(1, 1, 0, 2, 0.6, 0.9)}));
  }
  const Comparison busy = compare({{{"serial", 1, 2}, serial_cpu()},
                                   {{"threads", 2, 2}, busy_threads},
                                   {{"processes", 2, 2}, squeezed}});
  EXPECT_FALSE(find(busy, "processes", 2).runq_measured);
  EXPECT_FALSE(find(busy, "processes", 2).no_parallel_work);
  EXPECT_TRUE(has_warning(busy, "the machine was busy"));
  const Comparison quiet =
      compare({{{"serial", 1, 2}, serial_cpu()}, {{"processes", 2, 2}, squeezed}});
  EXPECT_TRUE(find(quiet, "processes", 2).no_parallel_work);
}

TEST(CompareModel, WarnsWhenTheMachineWasBusy) {
  std::vector<RunResult> busy;
  for (int i = 0; i < 3; ++i)
    busy.push_back(run("serial", 1, {task(0, 0, 0, 1, 0.6, 0.4), task(1, 0, 1, 2, 0.6, 0.4)}));
  std::vector<RunResult> busier;
  for (int i = 0; i < 3; ++i)
    busier.push_back(run("threads", 2, {task(0, 0, 0, 1, 0.5, 0.5), task(1, 1, 0, 1, 0.5, 0.5)}));
  const Comparison c = compare({{{"serial", 1, 2}, busy}, {{"threads", 2, 2}, busier}});
  EXPECT_TRUE(has_warning(c,
                          "the machine was busy: the tasks of threads -j2 spent 50 % of their "
                          "time waiting for a CPU"));
  EXPECT_FALSE(has_warning(c, "the machine was busy", 1));
  EXPECT_FALSE(has_warning(compare({{{"serial", 1, 2}, serial_cpu()}}), "the machine was busy"));
}

}  // namespace
}  // namespace pyhost::compare
