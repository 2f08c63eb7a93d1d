// The needs graph: unknown needs, cycles (named), run order, --only selection.
#include "batch/job_graph.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pyhost::batch {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A job file built in memory: {name, needs, tags}; needs are named on line 100 + job index.
JobFile make_file(
    std::vector<std::tuple<std::string, std::vector<std::string>, std::vector<std::string>>> jobs) {
  JobFile f;
  f.display_path = "g.toml";
  int line = 1;
  for (auto& [name, needs, tags] : jobs) {
    JobSpec s;
    s.name = name;
    s.needs = needs;
    s.tags = tags;
    s.line = line;
    for (const auto& n : needs) s.need_lines[n] = 100 + line;
    f.jobs.push_back(s);
    ++line;
  }
  return f;
}

std::string graph_error(const JobFile& f) {
  try {
    validate_graph(f);
  } catch (const JobFileError& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> names(const JobFile& f, const std::vector<size_t>& order) {
  std::vector<std::string> out;
  for (size_t i : order) out.push_back(f.jobs[i].name);
  return out;
}

TEST(BatchGraph, UnknownNeedNamesTheLine) {
  auto f = make_file({{"a", {}, {}}, {"b", {"a", "zz"}, {}}});
  EXPECT_EQ(graph_error(f),
            "g.toml:102: error: job 'b' needs 'zz', which is not a job in this file");
}

TEST(BatchGraph, CycleIsNamed) {
  auto f = make_file({{"a", {"c"}, {}}, {"b", {"a"}, {}}, {"c", {"b"}, {}}, {"d", {}, {}}});
  EXPECT_EQ(graph_error(f), "g.toml:101: error: dependency cycle: a -> c -> b -> a");
}

TEST(BatchGraph, CycleNotThroughTheFirstJob) {
  auto f = make_file({{"root", {}, {}}, {"x", {"root", "y"}, {}}, {"y", {"x"}, {}}});
  EXPECT_THAT(graph_error(f), HasSubstr("dependency cycle: x -> y -> x"));
}

TEST(BatchGraph, SelfNeed) {
  auto f = make_file({{"a", {"a"}, {}}});
  EXPECT_THAT(graph_error(f), HasSubstr("g.toml:101: error: job 'a' needs itself"));
}

TEST(BatchGraph, ValidGraphPasses) {
  auto f = make_file({{"a", {}, {}}, {"b", {"a"}, {}}, {"c", {"a", "b"}, {}}});
  EXPECT_EQ(graph_error(f), "");
}

TEST(BatchGraph, TopologicalOrderKeepsFileOrderWhenFree) {
  auto f = make_file({{"train", {"prep"}, {}},
                      {"other", {}, {}},
                      {"prep", {}, {}},
                      {"report", {"train", "other"}, {}}});
  EXPECT_THAT(names(f, topological_order(f)), ElementsAre("other", "prep", "train", "report"));
}

TEST(BatchGraph, SelectAllByDefault) {
  auto f = make_file({{"a", {}, {}}, {"b", {}, {}}});
  Selection s = select_jobs(f, {});
  EXPECT_THAT(s.selected, ElementsAre(true, true));
  EXPECT_THAT(s.pulled, ElementsAre(false, false));
}

TEST(BatchGraph, SelectByNameOrTagPullsInNeedsTransitively) {
  auto f = make_file({{"fetch", {}, {}},
                      {"prep", {"fetch"}, {}},
                      {"train", {"prep"}, {"nightly"}},
                      {"lint", {}, {"nightly", "fast"}},
                      {"docs", {}, {}}});
  Selection s = select_jobs(f, {"nightly"});
  EXPECT_THAT(s.selected, ElementsAre(true, true, true, true, false));
  EXPECT_THAT(s.pulled, ElementsAre(true, true, false, false, false));
  s = select_jobs(f, {"docs", "fast"});
  EXPECT_THAT(s.selected, ElementsAre(false, false, false, true, true));
}

TEST(BatchGraph, SelectUnknownPatternThrows) {
  auto f = make_file({{"a", {}, {}}});
  EXPECT_THROW(select_jobs(f, {"a", "nope"}), std::invalid_argument);
}

}  // namespace
}  // namespace pyhost::batch
