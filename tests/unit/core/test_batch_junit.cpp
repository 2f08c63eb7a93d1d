// JUnit XML: one testcase per job, the right element per status, always well-formed.
#include "batch/junit.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pyhost::batch {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::ordered_json;

json job(const std::string& name, const std::string& status, json reason = nullptr) {
  return {{"name", name},
          {"status", status},
          {"reason", reason},
          {"attempts", 1},
          {"exit_code", status == "ok" ? json(0) : json(nullptr)},
          {"wall_s", 0.25},
          {"stdout", "out <1>\n"},
          {"stderr", "err & more"}};
}

TEST(BatchJUnit, OneTestcasePerJobWithCounts) {
  json doc = {
      {"wall_s", 2.0},
      {"started_at", "2024-01-01T00:00:00Z"},
      {"jobs",
       {job("a", "ok"), job("b", "failed", "exit code 3"), job("c", "crashed", "killed by SIGSEGV"),
        job("d", "timeout", "timed out after 1 s"), job("e", "skipped", "needs 'b'")}}};
  std::string xml = render_junit(doc, "jobs");
  EXPECT_THAT(xml, HasSubstr("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
  EXPECT_THAT(xml, HasSubstr("<testsuite name=\"jobs\" tests=\"5\" failures=\"2\" errors=\"1\" "
                             "skipped=\"1\" time=\"2.000\" timestamp=\"2024-01-01T00:00:00Z\">"));
  EXPECT_THAT(xml, HasSubstr("<testcase name=\"a\" classname=\"jobs\" time=\"0.250\">"));
  EXPECT_THAT(
      xml, HasSubstr("<failure type=\"failed\" message=\"exit code 3\">err &amp; more</failure>"));
  EXPECT_THAT(xml, HasSubstr("<error type=\"crashed\" message=\"killed by SIGSEGV\">"));
  EXPECT_THAT(xml, HasSubstr("<failure type=\"timeout\" message=\"timed out after 1 s\">"));
  EXPECT_THAT(xml, HasSubstr("<skipped message=\"needs &#39;b&#39;\"/>"));
  EXPECT_THAT(xml, HasSubstr("<system-out>out &lt;1&gt;\n</system-out>"));
  EXPECT_THAT(xml, HasSubstr("<property name=\"attempts\" value=\"1\"/>"));
}

TEST(BatchJUnit, EmptyBatch) {
  std::string xml = render_junit({{"jobs", json::array()}}, "empty");
  EXPECT_THAT(xml, HasSubstr("tests=\"0\""));
  EXPECT_THAT(xml, HasSubstr("</testsuites>"));
}

}  // namespace
}  // namespace pyhost::batch
