#include "batch/junit.hpp"

#include <fmt/format.h>

#include "util/escape.hpp"

namespace pyhost::batch {

namespace {

std::string attr_json(const nlohmann::ordered_json& value) {
  if (value.is_string()) return markup_escape(value.get<std::string>(), true);
  if (value.is_null()) return "";
  return markup_escape(value.dump(), true);
}

std::string attr(std::string_view text) {
  return markup_escape(text, true);
}

std::string text_of(const nlohmann::ordered_json& job, const char* key) {
  auto it = job.find(key);
  return it != job.end() && it->is_string() ? it->get<std::string>() : std::string();
}

double number_of(const nlohmann::ordered_json& job, const char* key) {
  auto it = job.find(key);
  return it != job.end() && it->is_number() ? it->get<double>() : 0.0;
}

}  // namespace

std::string render_junit(const nlohmann::ordered_json& results, std::string_view suite) {
  const nlohmann::ordered_json& jobs = results.at("jobs");
  int failures = 0, errors = 0, skipped = 0;
  std::string cases;
  for (const auto& job : jobs) {
    std::string status = text_of(job, "status");
    std::string reason = text_of(job, "reason");
    cases += fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3f}\">\n",
                         attr(text_of(job, "name")), attr(suite), number_of(job, "wall_s"));
    cases += fmt::format(
        "      <properties>\n        <property name=\"status\" value=\"{}\"/>\n"
        "        <property name=\"attempts\" value=\"{}\"/>\n"
        "        <property name=\"exit_code\" value=\"{}\"/>\n      </properties>\n",
        attr(status), attr_json(job.value("attempts", nlohmann::ordered_json(0))),
        attr_json(job.value("exit_code", nlohmann::ordered_json(nullptr))));
    std::string stderr_text = text_of(job, "stderr");
    if (status == "failed" || status == "timeout") {
      ++failures;
      cases += fmt::format("      <failure type=\"{}\" message=\"{}\">{}</failure>\n", attr(status),
                           attr(reason), markup_escape(stderr_text));
    } else if (status == "crashed") {
      ++errors;
      cases += fmt::format("      <error type=\"crashed\" message=\"{}\">{}</error>\n",
                           attr(reason), markup_escape(stderr_text));
    } else if (status == "skipped") {
      ++skipped;
      cases += fmt::format("      <skipped message=\"{}\"/>\n", attr(reason));
    }
    if (std::string out = text_of(job, "stdout"); !out.empty())
      cases += fmt::format("      <system-out>{}</system-out>\n", markup_escape(out));
    if (!stderr_text.empty())
      cases += fmt::format("      <system-err>{}</system-err>\n", markup_escape(stderr_text));
    cases += "    </testcase>\n";
  }
  const double wall = number_of(results, "wall_s");
  const std::string counts =
      fmt::format("tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\"",
                  jobs.size(), failures, errors, skipped, wall);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"pyhost batch\" {}>\n", counts);
  out += fmt::format("  <testsuite name=\"{}\" {} timestamp=\"{}\">\n", attr(suite), counts,
                     attr_json(results.value("started_at", nlohmann::ordered_json(""))));
  out += cases;
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace pyhost::batch
