// The reports of `pyhost compare`: terminal table, CSV, Markdown, JSON and HTML.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "compare_test_util.hpp"
#include "report/compare.hpp"
#include "report/compare_table.hpp"

namespace pyhost::compare {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

RunResult measured_run(const std::string& mode, int workers, std::vector<TaskResult> tasks) {
  RunResult r;
  r.mode = mode;
  r.workers = workers;
  r.python = "3.13.0";
  r.tasks = std::move(tasks);
  r.wall_s = task_span_s(r) + 0.002;
  r.peak_rss_kb = static_cast<long>(20 * 1024);
  for (int w = 0; w < workers; ++w) r.worker_info.push_back({w, 0.002});
  return r;
}

// serial, threads -j2 (one GIL) and subinterpreters -j1/-j2 on a CPU-bound script.
Comparison sample_comparison(const std::string& script = "scripts/cpu_bound.py") {
  Comparison c;
  c.python = "3.13.0";
  c.cores = 2;
  c.script = script;
  c.tasks = 2;
  c.repeat = 3;
  c.warmup = 1;
  std::vector<RunResult> serial, threads, sub1, sub2;
  for (int i = 0; i < 3; ++i) {
    const double d = 0.01 * i;
    serial.push_back(measured_run(
        "serial", 1, {task(0, 0, 0.002, 0.5 + d, 0.5), task(1, 0, 0.5 + d, 1 + d, 0.5)}));
    threads.push_back(
        measured_run("threads", 2, {task(0, 0, 0.002, 1 + d, 0.5), task(1, 1, 0.002, 1 + d, 0.5)}));
    sub1.push_back(
        measured_run("subinterpreters", 1,
                     {task(0, 0, 0.01, 0.52 + d, 0.5), task(1, 0, 0.52 + d, 1.03 + d, 0.5)}));
    sub2.push_back(measured_run(
        "subinterpreters", 2, {task(0, 0, 0.01, 0.53 + d, 0.5), task(1, 1, 0.02, 0.54 + d, 0.5)}));
  }
  c.results.push_back(analyse({"serial", 1, 2}, serial));
  c.results.push_back(analyse({"threads", 2, 2}, threads));
  c.results.push_back(analyse({"subinterpreters", 1, 2}, sub1));
  c.results.push_back(analyse({"subinterpreters", 2, 2}, sub2));
  finish(c);
  return c;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::size_t columns(const std::string& text) {
  std::size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(CompareWriters, TerminalTableIsAlignedAndPlainWithoutColour) {
  const Comparison c = sample_comparison();
  const std::string out = render_terminal(c, {.color = false});
  EXPECT_EQ(out.find('\033'), std::string::npos);
  const auto all = lines(out);
  // Title, blank, header, one row per configuration: all the same width (right-aligned end).
  ASSERT_GE(all.size(), 6u);
  EXPECT_THAT(all[0], HasSubstr("scripts/cpu_bound.py: 2 tasks per run, 3 runs (+1 warmup)"));
  const std::string& header = all[2];
  EXPECT_THAT(header, HasSubstr("median s"));
  EXPECT_THAT(header, HasSubstr("GIL wait"));
  for (std::size_t i = 3; i < 7; ++i) EXPECT_EQ(columns(all[i]), columns(header)) << all[i];
  // The speedup column starts at the same place in every row.
  const std::size_t at = header.find("speedup");
  EXPECT_THAT(all[3].substr(0, 16), HasSubstr("serial"));
  EXPECT_THAT(all[4], HasSubstr("threads"));
  EXPECT_NE(at, std::string::npos);
  EXPECT_THAT(out, HasSubstr("threads: 1.00x with 2 workers — "));
  EXPECT_THAT(out,
              HasSubstr("of thread time waited for the GIL (off-CPU while runnable in Python)"));
  EXPECT_THAT(out, HasSubstr("subinterpreters -j2 ran 1.86 ± 0.0"));
  EXPECT_THAT(out, HasSubstr("times faster than serial"));
  EXPECT_THAT(out, HasSubstr("times faster than threads -j2"));
  EXPECT_THAT(out, HasSubstr("times faster than subinterpreters -j1"));
  EXPECT_EQ(c.verdicts.size(), 3u);
  EXPECT_THAT(out, HasSubstr("Warning: threads -j2: did no parallel work"));
}

TEST(CompareWriters, TerminalColoursOnlyWhenAsked) {
  const std::string out = render_terminal(sample_comparison(), {.color = true});
  EXPECT_THAT(out, HasSubstr("\033[32m"));  // a speedup worth having, in green
  EXPECT_THAT(out, HasSubstr("\033[0m"));
}

TEST(CompareWriters, CsvHasOneRowPerConfigurationWithRawNumbers) {
  const Comparison c = sample_comparison();
  const auto all = lines(render_csv(c));
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0],
            "mode,workers,tasks,runs,median_s,mean_s,stddev_s,min_s,max_s,mad_s,outliers,speedup,"
            "speedup_err,efficiency,karp_flatt,cpu_util,gil_wait,peak_rss_mb,rss_per_worker_mb,"
            "startup_s,task_s");
  EXPECT_EQ(all[1].rfind("serial,1,2,3,1.01,", 0), 0u) << all[1];
  // serial: no Karp-Flatt, no GIL wait -> empty fields.
  std::vector<std::string> fields;
  std::stringstream row(all[1]);
  for (std::string f; std::getline(row, f, ',');) fields.push_back(f);
  ASSERT_EQ(fields.size(), 21u);
  EXPECT_EQ(fields[14], "");  // karp_flatt
  EXPECT_EQ(fields[16], "");  // gil_wait
  EXPECT_EQ(all[2].rfind("threads,2,2,3,", 0), 0u);
  EXPECT_EQ(all[4].rfind("subinterpreters,2,2,3,", 0), 0u);
}

TEST(CompareWriters, MarkdownCarriesTheSameTable) {
  const Comparison c = sample_comparison();
  const std::string md = render_markdown(c);
  const auto all = lines(md);
  EXPECT_THAT(md, HasSubstr("| mode | workers | median s | mean ± σ s |"));
  EXPECT_THAT(md, HasSubstr("|:---|---:|"));
  EXPECT_THAT(md, HasSubstr("| serial | 1 | 1.010 |"));
  EXPECT_THAT(md, HasSubstr("| threads | 2 |"));
  EXPECT_EQ(count(md, "\n| subinterpreters |"), 2u);
  EXPECT_THAT(md, HasSubstr("- threads: 1.00x"));
  EXPECT_THAT(md, HasSubstr("> **Warning:** threads -j2: did no parallel work"));
  const Table table = readable_table(c);
  for (const auto& line : all) {
    if (line.rfind("| ", 0) != 0) continue;
    EXPECT_EQ(count(line, " |"), table.headers.size()) << line;
  }
}

TEST(CompareWriters, JsonHasTheDocumentedShape) {
  const nlohmann::json doc = to_json(sample_comparison());
  EXPECT_EQ(doc["python"], "3.13.0");
  EXPECT_EQ(doc["cores"], 2);
  ASSERT_EQ(doc["results"].size(), 4u);
  for (const auto& r : doc["results"]) {
    for (const char* key :
         {"mode", "workers", "tasks", "runs_s", "median_s", "mean_s", "stddev_s", "speedup",
          "speedup_err", "efficiency", "karp_flatt", "cpu_util", "gil_wait", "peak_rss_mb",
          "rss_per_worker_mb", "startup_s", "timeline"})
      EXPECT_TRUE(r.contains(key)) << key;
    EXPECT_EQ(r["runs_s"].size(), 3u);
    ASSERT_EQ(r["timeline"].size(), 2u);
    for (const auto& t : r["timeline"])
      for (const char* key : {"task", "worker", "start_s", "end_s"})
        EXPECT_TRUE(t.contains(key)) << key;
  }
  const auto& serial = doc["results"][0];
  EXPECT_EQ(serial["mode"], "serial");
  EXPECT_TRUE(serial["gil_wait"].is_null());
  EXPECT_TRUE(serial["karp_flatt"].is_null());
  EXPECT_DOUBLE_EQ(serial["speedup"].get<double>(), 1.0);
  const auto& threads = doc["results"][1];
  EXPECT_NEAR(threads["gil_wait"].get<double>(), 0.5, 0.01);
  EXPECT_NEAR(threads["karp_flatt"].get<double>(), 1.0, 0.05);
  EXPECT_EQ(threads["timeline"][1]["worker"], 1);
  EXPECT_TRUE(doc["amdahl_serial_fraction"].contains("subinterpreters"));
}

TEST(CompareWriters, HtmlIsSelfContainedWithTheCharts) {
  const std::string html = render_html(sample_comparison("scripts/<odd> & name.py"));
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_THAT(html, HasSubstr("<svg id=\"speedup-chart\""));
  EXPECT_EQ(count(html, "<line class=\"ideal\""), 1u);
  EXPECT_EQ(count(html, "<path class=\"amdahl\" data-mode=\"threads\""), 1u);
  EXPECT_EQ(count(html, "<path class=\"amdahl\" data-mode=\"subinterpreters\""), 1u);
  EXPECT_EQ(count(html, "<circle class=\"point\" data-mode=\"subinterpreters\""), 2u);
  EXPECT_EQ(count(html, "<polyline class=\"measured\" data-mode=\"subinterpreters\""), 1u);
  // One timeline per mode (its widest configuration), one bar per task.
  EXPECT_EQ(count(html, "<svg class=\"timeline chart\""), 3u);
  EXPECT_THAT(html,
              HasSubstr("<svg class=\"timeline chart\" data-mode=\"threads\" data-workers=\"2\""));
  EXPECT_THAT(
      html,
      HasSubstr("<svg class=\"timeline chart\" data-mode=\"subinterpreters\" data-workers=\"2\""));
  EXPECT_EQ(count(html, "<rect class=\"task\""), 6u);
  EXPECT_EQ(count(html, "<rect class=\"startup\""), 5u);
  EXPECT_THAT(html, HasSubstr("<table class=\"results\">"));
  EXPECT_EQ(count(html, "<tr>"), 5u);  // header + 4 configurations
  // Escaped, and nothing fetched from anywhere.
  EXPECT_THAT(html, HasSubstr("scripts/&lt;odd&gt; &amp; name.py"));
  EXPECT_THAT(html, Not(HasSubstr("<odd>")));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_EQ(count(html, "http"), count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
}

TEST(CompareWriters, NumberFormats) {
  EXPECT_EQ(format_seconds(0.5181), "0.518");
  EXPECT_EQ(format_seconds(12.345), "12.35");
  EXPECT_EQ(format_seconds(0.00071), "0.0007");
  EXPECT_EQ(format_with_spread(0.5204, 0.0061), "0.520 ± 0.006");
  EXPECT_EQ(format_optional(std::nullopt, "{:.2f}"), "—");
  EXPECT_EQ(format_optional(1.234, "{:.2f}"), "1.23");
}

}  // namespace
}  // namespace pyhost::compare
