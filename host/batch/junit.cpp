#include "batch/junit.hpp"

#include <fmt/format.h>

namespace pyhost::batch {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at s[i], 0 if invalid; sets the code point.
size_t utf8_sequence(std::string_view s, size_t i, char32_t& cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool xml_char(char32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || cp >= 0x10000;
}

std::string attr_json(const nlohmann::ordered_json& value) {
  if (value.is_string()) return xml_escape(value.get<std::string>(), true);
  if (value.is_null()) return "";
  return xml_escape(value.dump(), true);
}

std::string attr(std::string_view text) {
  return xml_escape(text, true);
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

std::string xml_escape(std::string_view text, bool attribute) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    size_t len = utf8_sequence(text, i, cp);
    if (len == 0 || !xml_char(cp)) {
      out += kReplacement;
      i += len ? len : 1;
      continue;
    }
    switch (cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      case '\r':
        out += "&#13;";
        break;  // a raw CR would be read back as LF
      default:
        out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

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
                           attr(reason), xml_escape(stderr_text));
    } else if (status == "crashed") {
      ++errors;
      cases += fmt::format("      <error type=\"crashed\" message=\"{}\">{}</error>\n",
                           attr(reason), xml_escape(stderr_text));
    } else if (status == "skipped") {
      ++skipped;
      cases += fmt::format("      <skipped message=\"{}\"/>\n", attr(reason));
    }
    if (std::string out = text_of(job, "stdout"); !out.empty())
      cases += fmt::format("      <system-out>{}</system-out>\n", xml_escape(out));
    if (!stderr_text.empty())
      cases += fmt::format("      <system-err>{}</system-err>\n", xml_escape(stderr_text));
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
