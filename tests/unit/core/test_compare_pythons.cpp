// `pyhost compare --python A,B`: interpreters side by side, from the plan to the reports; and the
// list of interpreters a pyhost knows (util/interpreters.hpp).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "report/compare.hpp"
#include "compare_test_util.hpp"
#include "report/compare_table.hpp"
#include "util/interpreters.hpp"

namespace pyhost::compare {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const PlannedInterpreter kGil{"3.13", false, ""};
const PlannedInterpreter kFree{"3.13t", true, "/opt/pyhost-ft"};


// n runs of two CPU-bound tasks: one after another (`together` false) or side by side, each
// taking `seconds`.
std::vector<RunResult> runs(const std::string& mode, int workers, bool together, double seconds,
                            int n = 3) {
  std::vector<RunResult> out;
  for (int i = 0; i < n; ++i) {
    const double s = seconds * (1 + 0.01 * i);
    RunResult r;
    r.mode = mode;
    r.workers = workers;
    r.python = "3.13.0";
    r.tasks = together ? std::vector{task(0, 0, 0, s, s), task(1, 1, 0, s, s)}
                       : std::vector{task(0, 0, 0, s, s), task(1, 0, s, 2 * s, s)};
    r.wall_s = together ? s : 2 * s;
    for (int w = 0; w < workers; ++w) r.worker_info.push_back({w, 0.001});
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::string> labels(const std::vector<Config>& configs) {
  std::vector<std::string> out;
  for (const auto& c : configs) out.push_back(c.label());
  return out;
}

TEST(ComparePythons, PlanRunsEachModeOnEachInterpreterBaselinesFirst) {
  std::vector<std::string> skipped;
  const auto configs =
      plan_configs({kGil, kFree}, kFree, {"serial", "threads", "freethreaded"}, {2}, 2, &skipped);
  EXPECT_THAT(labels(configs),
              ElementsAre("3.13 serial", "3.13t serial", "3.13 threads -j2", "3.13t threads -j2"));
  // freethreaded is threads on 3.13t, measured as such.
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_THAT(skipped[0], HasSubstr("freethreaded: left out"));
  EXPECT_EQ(configs[1].pyhost, "/opt/pyhost-ft");
  EXPECT_TRUE(configs[3].free_threaded);
  EXPECT_TRUE(configs[3].no_gil());
  EXPECT_FALSE(configs[3].one_gil());
  EXPECT_TRUE(configs[2].one_gil());
  EXPECT_FALSE(configs[1].no_gil());  // one thread: nothing to say about a GIL
  const Config sub{"subinterpreters", 2, 2, "3.13t", true};
  EXPECT_TRUE(sub.no_gil());  // sub-interpreters of a free-threaded CPython have none either
  EXPECT_FALSE((Config{"processes", 2, 2, "3.13t", true}.no_gil()));
}

TEST(ComparePythons, FreethreadedRunsOnceFromThisBuildAsTheCompanion) {
  const auto configs = plan_configs({kGil}, kFree, {"threads", "freethreaded"}, {2}, 2);
  EXPECT_THAT(labels(configs), ElementsAre("serial", "threads -j2", "freethreaded -j2"));
  EXPECT_EQ(configs[2].python, "3.13t");
  EXPECT_TRUE(configs[2].free_threaded);
  EXPECT_EQ(configs[2].pyhost, "");  // this build starts its companion
  EXPECT_EQ(configs[0].python, "3.13");
  EXPECT_FALSE(configs[0].show_python);
}

Comparison side_by_side() {
  Comparison c;
  c.cores = 2;
  c.script = "cpu.py";
  c.tasks = 2;
  c.repeat = 3;
  c.interpreters = {"3.13", "3.13t"};
  const auto configs = plan_configs({kGil, kFree}, std::nullopt, {"threads"}, {2}, 2);
  // 3.13: serial 2 s, threads as slow (one GIL); 3.13t: serial 2.4 s, threads 1.2 s.
  c.results.push_back(analyse(configs[0], runs("serial", 1, false, 1.0)));
  c.results.push_back(analyse(configs[1], runs("serial", 1, false, 1.2)));
  c.results.push_back(analyse(configs[2], runs("threads", 2, false, 1.0)));
  c.results.push_back(analyse(configs[3], runs("threads", 2, true, 1.2)));
  finish(c);
  return c;
}

TEST(ComparePythons, SpeedupsAreAgainstTheFirstInterpretersSerial) {
  const Comparison c = side_by_side();
  EXPECT_EQ(c.baseline(), &c.results[0]);
  EXPECT_DOUBLE_EQ(*c.results[0].speedup, 1.0);
  EXPECT_NEAR(*c.results[1].speedup, 1 / 1.2, 1e-9);  // 3.13t's one thread is slower
  EXPECT_FALSE(c.results[1].efficiency);              // which is no parallel work
  EXPECT_NEAR(*c.results[3].speedup, 2 / 1.2, 1e-9);
  // Free-threaded threads wait for no GIL.
  EXPECT_EQ(c.results[3].gil_wait, 0.0);
  const std::string all = fmt::format("{}", fmt::join(c.explanations, "\n"));
  EXPECT_THAT(all, HasSubstr("3.13t serial: one thread of 3.13t took 2.424 s against 3.13's "
                             "2.020 s: 20 % more time (0.83x)"));
  EXPECT_THAT(all, HasSubstr("3.13t against 3.13: its fastest, 3.13t threads -j2, ran 1.67x as "
                             "fast as 3.13's serial"));
  EXPECT_THAT(all, HasSubstr("3.13t threads: 1.67x with 2 workers — threads without a GIL"));
}

TEST(ComparePythons, ReportsNameThePythonOfEveryRow) {
  const Comparison c = side_by_side();
  const Table table = readable_table(c);
  EXPECT_EQ(table.headers[0], "python");
  EXPECT_EQ(table.rows[3][0].text, "3.13t");
  EXPECT_EQ(table.rows[3][1].text, "threads");
  EXPECT_THAT(render_csv(c), HasSubstr("python,free_threaded,mode,workers"));
  EXPECT_THAT(render_csv(c), HasSubstr("\n3.13t,true,threads,2,"));
  const auto doc = to_json(c);
  EXPECT_EQ(doc["interpreters"], nlohmann::json({"3.13", "3.13t"}));
  EXPECT_EQ(doc["results"][3]["python"], "3.13t");
  EXPECT_EQ(doc["results"][3]["free_threaded"], true);
  EXPECT_EQ(doc["results"][2]["free_threaded"], false);
  const std::string html = render_html(c);
  EXPECT_THAT(html, HasSubstr("<li data-python=\"3.13\">"));
  EXPECT_THAT(html, HasSubstr("<li data-python=\"3.13t\">"));
}

TEST(ComparePythons, OneInterpreterKeepsThePlainTable) {
  Comparison c;
  c.cores = 2;
  const auto configs = plan_configs({kGil}, std::nullopt, {"threads"}, {2}, 2);
  c.results.push_back(analyse(configs[0], runs("serial", 1, false, 1.0)));
  finish(c);
  EXPECT_EQ(readable_table(c).headers[0], "mode");
  EXPECT_THAT(render_csv(c), ::testing::StartsWith("mode,workers"));
  EXPECT_EQ(to_json(c)["results"][0]["python"], "3.13");
}

}  // namespace
}  // namespace pyhost::compare

namespace pyhost {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Interpreter made(const std::string& version, bool free_threaded, const std::string& path,
                 Interpreter::Source source = Interpreter::Source::Registered) {
  return {interpreter_name(version, free_threaded), version, free_threaded, path, source};
}

TEST(Interpreters, NamesAreTheMinorVersionWithATForFreeThreading) {
  EXPECT_EQ(interpreter_name("3.13.0", false), "3.13");
  EXPECT_EQ(interpreter_name("3.13.1+", true), "3.13t");
  EXPECT_EQ(interpreter_name("3.15.0a1", false), "3.15");
}

TEST(Interpreters, RegisteredPathsComeFromTheEnvironmentThenTheFlags) {
  EXPECT_EQ(registered_builds("/a/pyhost::/b/pyhost", {"/c/pyhost"}),
            (std::vector<fs::path>{"/a/pyhost", "/b/pyhost", "/c/pyhost"}));
  EXPECT_TRUE(registered_builds(nullptr, {}).empty());
}

TEST(Interpreters, ListsSelfCompanionThenRegisteredBuilds) {
  const Interpreter self = made("3.13.0", false, "/x/pyhost", Interpreter::Source::Self);
  const Interpreter ft = made("3.13.0", true, "/x/pyhost-ft", Interpreter::Source::Companion);
  std::map<std::string, Interpreter> builds = {
      {"/y/pyhost312", made("3.12.1", false, "/y/pyhost312")},
      {"/z/pyhost", made("3.13.5", false, "/z/pyhost")},
      {"/w/pyhost", made("3.13.5", false, "/w/pyhost")}};
  const auto list = list_interpreters(self, ft, {"/y/pyhost312", "/z/pyhost", "/w/pyhost"},
                                      [&](const fs::path& p) { return builds.at(p.string()); });
  std::vector<std::string> names;
  for (const auto& i : list.interpreters) names.push_back(i.name);
  // 3.13.5 is not 3.13.0: named by its full version; the second 3.13.5 is left out.
  EXPECT_THAT(names, ElementsAre("3.13", "3.13t", "3.12", "3.13.5"));
  ASSERT_EQ(list.notes.size(), 1u);
  EXPECT_THAT(list.notes[0], HasSubstr("/w/pyhost left out: CPython 3.13.5 is already listed"));
  EXPECT_EQ(list.find("3.12")->pyhost, "/y/pyhost312");
  EXPECT_EQ(list.find("3.14"), nullptr);
  EXPECT_EQ(list.names(), "3.13, 3.13t, 3.12, 3.13.5");
}

TEST(Interpreters, ABuildThatIsNoPyhostIsAnErrorNamingIt) {
  EXPECT_THROW(
      {
        try {
          describe_pyhost_build("/nonexistent/pyhost");
        } catch (const InterpreterError& error) {
          EXPECT_THAT(error.what(), HasSubstr("'/nonexistent/pyhost' is not a working pyhost"));
          throw;
        }
      },
      InterpreterError);
  // /bin/false runs, but answers nothing.
  EXPECT_THROW(describe_pyhost_build("/bin/false"), InterpreterError);
}

}  // namespace
}  // namespace pyhost
