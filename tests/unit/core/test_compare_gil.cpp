// `pyhost compare` with the GIL sampler's figures: parsing, GIL wait from them, the text
// timeline and the JSON/HTML that carry them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report/compare.hpp"
#include "pyhost/results.hpp"

namespace pyhost::compare {
namespace {

using ::testing::HasSubstr;
using gil::GilState;

// A `pyhost run --json` document of two CPU-bound threads on one GIL taking turns every 5 ms for
// 1 s; the off-CPU share (wall - cpu - runq) is made to read low, as on a busy machine.
nlohmann::json threads_doc() {
  RunResult run;
  run.mode = "threads";
  run.workers = 2;
  run.python = "3.13.0";
  run.wall_s = 1.0;
  GilRecord record;
  record.source = "gil";
  record.samples = 1000;
  record.period_s = 0.001;
  record.switches = 200;
  for (int w = 0; w < 2; ++w) {
    TaskResult task;
    task.id = w;
    task.worker = w;
    task.status = TaskStatus::Ok;
    task.exit_code = 0;
    task.start_s = 0;
    task.end_s = 1;
    task.cpu_s = 0.5;
    task.runq_s = 0.3;  // the off-CPU measure would say 20 % GIL wait
    task.gil_held_s = 0.5;
    task.gil_wait_s = 0.49;
    task.off_cpu_s = 0.01;
    run.tasks.push_back(task);
    gil::WorkerTimeline timeline{w, 0, {}};
    for (int i = 0; i < 200; ++i)
      timeline.segments.push_back(
          {i * 0.005, (i + 1) * 0.005, (i + w) % 2 ? GilState::Wait : GilState::Held});
    record.workers.push_back(timeline);
  }
  run.gil = record;
  return run.to_json();
}

TEST(CompareGil, RunJsonRoundTripsTheSamplersFigures) {
  const RunResult sample = RunResult::from_json(threads_doc());
  ASSERT_EQ(sample.tasks.size(), 2u);
  EXPECT_EQ(sample.tasks[0].gil_held_s, 0.5);
  EXPECT_EQ(sample.tasks[1].off_cpu_s, 0.01);
  ASSERT_TRUE(sample.gil);
  EXPECT_EQ(sample.gil->switches, 200);
  EXPECT_EQ(sample.gil->source, "gil");
  ASSERT_EQ(sample.gil->workers.size(), 2u);
  EXPECT_EQ(sample.gil->workers[1].segments.size(), 200u);
  EXPECT_EQ(sample.gil->workers[1].segments[0].state, GilState::Wait);
  EXPECT_NEAR(*sampled_gil_wait(sample), 0.49, 1e-12);
  EXPECT_NEAR(*sampled_gil_held(sample), 0.5, 1e-12);
  EXPECT_NEAR(*gil_switch_rate(sample), 200, 1e-9);
}

TEST(CompareGil, SegmentJsonIsRoundedAndDropsWhatRoundsAway) {
  const gil::WorkerTimeline w{3, 1,
                              {{0.0, 0.1, GilState::Held},
                               {0.1, 0.100002, GilState::Wait},
                               {0.100002, 0.2000004, GilState::Held}}};
  const nlohmann::json doc = gil_segments_json({w});
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["worker"], 3);
  EXPECT_EQ(doc[0]["interpreter"], 1);
  ASSERT_EQ(doc[0]["segments"].size(), 1u);
  EXPECT_EQ(doc[0]["segments"][0], nlohmann::json::array({0.0, 0.2, "held"}));
}

TEST(CompareGil, RunJsonWithoutSamplerHasNulls) {
  RunResult run;
  run.mode = "processes";
  run.tasks.push_back(TaskResult{});
  const nlohmann::json doc = run.to_json();
  EXPECT_TRUE(doc["gil_switches"].is_null());
  EXPECT_TRUE(doc["gil_segments"].is_null());
  EXPECT_TRUE(doc["tasks"][0]["gil_wait_s"].is_null());
  const RunResult sample = RunResult::from_json(doc);
  EXPECT_FALSE(sampled_gil_wait(sample));
  EXPECT_FALSE(gil_switch_rate(sample));
}

TEST(CompareGil, GilWaitComesFromTheSamplesWhereEveryRunHasThem) {
  std::vector<RunResult> runs(3, RunResult::from_json(threads_doc()));
  ConfigResult r = analyse({"threads", 2, 2}, runs);
  EXPECT_TRUE(r.gil_sampled);
  EXPECT_NEAR(*r.gil_wait, 0.49, 1e-12);  // not the 20 % the off-CPU share says
  EXPECT_NEAR(r.off_cpu, 0.2, 1e-9);
  EXPECT_NEAR(*r.gil_held, 0.5, 1e-12);
  EXPECT_NEAR(*r.gil_switch_rate, 200, 1e-9);
  EXPECT_EQ(r.gil_timeline.size(), 2u);
  ASSERT_TRUE(r.timeline[0].gil_wait_s);

  // One run without samples: the older measure for all.
  runs[1].tasks[0].gil_wait_s.reset();
  r = analyse({"threads", 2, 2}, runs);
  EXPECT_FALSE(r.gil_sampled);
  EXPECT_NEAR(*r.gil_wait, 0.2, 1e-9);
}

Comparison threads_comparison() {
  Comparison c;
  c.python = "3.13.0";
  c.cores = 2;
  c.script = "cpu.py";
  c.tasks = 2;
  c.repeat = 1;
  c.results.push_back(analyse({"threads", 2, 2}, {RunResult::from_json(threads_doc())}));
  finish(c);
  return c;
}

TEST(CompareGil, TerminalTextTimelineOneLinePerWorker) {
  const std::string text = render_gil_text(threads_comparison(), 20, 0.05);
  EXPECT_THAT(text, HasSubstr("GIL timelines"));
  EXPECT_THAT(text, HasSubstr("threads -j2 — whole run 0 … 1.000 s (50.0 ms a column)"));
  EXPECT_THAT(text, HasSubstr("200 GIL switches"));
  // The 50 ms close-up around the middle: 2.5 ms a column, 5 ms turns, so pairs of columns.
  EXPECT_THAT(text, HasSubstr("|\u2588\u2588\u2591\u2591\u2588\u2588\u2591\u2591"));
  EXPECT_THAT(text, HasSubstr("held 50 %, waiting 50 %, off-CPU 0 %"));
  int worker_lines = 0;
  for (std::size_t at = text.find("    worker "); at != std::string::npos;
       at = text.find("    worker ", at + 1))
    ++worker_lines;
  EXPECT_EQ(worker_lines, 2);
  EXPECT_THAT(render_terminal(threads_comparison()), HasSubstr("GIL timelines"));
}

TEST(CompareGil, NoTextTimelineWithoutSamples) {
  Comparison c = threads_comparison();
  for (auto& r : c.results) r.gil_timeline.clear();
  EXPECT_EQ(render_gil_text(c), "");
}

TEST(CompareGil, DetailWindowIsWhereAllWorkersRun) {
  ConfigResult r;
  r.timeline = {{0, 0, 0.0, 1.0}, {1, 1, 0.4, 0.6}};
  const auto [from, to] = detail_window(r, 0.05);
  EXPECT_NEAR(from, 0.475, 1e-12);
  EXPECT_NEAR(to, 0.525, 1e-12);
}

TEST(CompareGil, JsonAndHtmlCarryTheSegments) {
  const Comparison c = threads_comparison();
  const nlohmann::json doc = to_json(c);
  const auto& item = doc["results"][0];
  EXPECT_EQ(item["gil_sampled"], true);
  EXPECT_EQ(item["gil_switches"], 200);
  EXPECT_EQ(item["gil_segments"][0]["segments"][0][2], "held");
  EXPECT_TRUE(item["timeline"][0].contains("gil_wait_s"));
  const std::string html = render_html(c);
  EXPECT_THAT(html, HasSubstr("class=\"gil-detail chart\""));
  EXPECT_THAT(html, HasSubstr("class=\"gil wait\""));
  EXPECT_THAT(html, HasSubstr("class=\"gil held\""));
  EXPECT_THAT(html, HasSubstr("GIL switches/s"));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("<script")));
}

}  // namespace
}  // namespace pyhost::compare
