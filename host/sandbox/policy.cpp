// SandboxPolicy's words: --sandbox-limit NAME=VALUE and the argv form of a policy.
#include <fmt/format.h>

#include <array>
#include <charconv>
#include <utility>

#include "pyhost/sandbox.hpp"

namespace pyhost {
namespace {

using LimitField = long SandboxLimits::*;
constexpr std::array<std::pair<std::string_view, LimitField>, 5> kLimits = {{
    {"cpu_s", &SandboxLimits::cpu_s},
    {"procs", &SandboxLimits::procs},
    {"file_size_mb", &SandboxLimits::file_size_mb},
    {"open_files", &SandboxLimits::open_files},
    {"tmp_mb", &SandboxLimits::tmp_mb},
}};

}  // namespace

std::string sandbox_limit_names() {
  std::string names;
  for (const auto& [name, field] : kLimits)
    names += (names.empty() ? "" : ", ") + std::string(name);
  return names;
}

void SandboxPolicy::set_limit(std::string_view assignment) {
  const auto eq = assignment.find('=');
  const std::string_view name = assignment.substr(0, eq);
  for (const auto& [known, field] : kLimits) {
    if (name != known) continue;
    if (eq == std::string_view::npos)
      throw std::invalid_argument(fmt::format("'{}' needs a value: {}=N", name, name));
    const std::string_view text = assignment.substr(eq + 1);
    long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    // cpu_s may be 0 (no limit); the others must leave the worker room to run at all.
    const long minimum = field == &SandboxLimits::cpu_s ? 0 : 1;
    if (ec != std::errc() || end != text.data() + text.size() || value < minimum)
      throw std::invalid_argument(
          fmt::format("'{}' must be an integer >= {} (got '{}')", name, minimum, text));
    limits.*field = value;
    return;
  }
  throw std::invalid_argument(
      fmt::format("unknown sandbox limit '{}' (known: {})", name, sandbox_limit_names()));
}

std::vector<std::string> SandboxPolicy::to_argv() const {
  if (!enabled) return {};
  std::vector<std::string> argv = {"--sandbox"};
  if (net) argv.push_back("--sandbox-net");
  if (reuse_workers) argv.push_back("--sandbox-reuse-workers");
  if (best_effort) argv.push_back("--sandbox-best-effort");
  for (const auto& path : read) argv.insert(argv.end(), {"--sandbox-read", path});
  for (const auto& path : write) argv.insert(argv.end(), {"--sandbox-write", path});
  const SandboxLimits defaults;
  for (const auto& [name, field] : kLimits)
    if (limits.*field != defaults.*field)
      argv.insert(argv.end(), {"--sandbox-limit", fmt::format("{}={}", name, limits.*field)});
  return argv;
}

}  // namespace pyhost
