#include "util/companion.hpp"

#include "util/child_process.hpp"
#include "util/interpreters.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <iterator>
#include <string>

namespace fs = std::filesystem;

namespace pyhost {
namespace {

bool is_executable_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::optional<fs::path> find_freethreaded_companion(const fs::path& self_exe, const char* env) {
  if (env != nullptr) {
    if (*env == '\0') return std::nullopt;
    fs::path named = env;
    if (!is_executable_file(named)) return std::nullopt;
    std::error_code ec;
    fs::path absolute = fs::absolute(named, ec);
    return ec ? named : absolute;
  }
  if (self_exe.empty()) return std::nullopt;
  fs::path next_to_self = self_exe.parent_path() / kFreethreadedCompanionName;
  if (!is_executable_file(next_to_self)) return std::nullopt;
  return next_to_self;
}

std::optional<fs::path> find_freethreaded_companion() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) self.clear();
  return find_freethreaded_companion(self, std::getenv(kFreethreadedCompanionEnv));
}

CompanionInfo describe_freethreaded_companion(const fs::path& binary) {
  CompanionInfo info;
  info.binary = binary;
  std::string text;
  try {
    ChildSpec spec;
    spec.exe = binary;
    spec.args = {"info", "--json"};
    spec.set_env[kFreethreadedCompanionEnv] = "";  // the companion must not look for one in turn
    spec.set_env[kInterpretersEnv] = "";           // nor ask registered builds
    CapturedRun run =
        run_captured(std::move(spec), std::chrono::seconds(60), /*merge_stderr=*/false);
    if (run.timed_out || run.status.exit_code != 0) {
      info.problem =
          binary.string() + " info --json " +
          (run.timed_out ? std::string("did not answer within 60 s") : run.status.describe());
      return info;
    }
    text = std::move(run.output);
  } catch (const std::exception& error) {
    info.problem = error.what();
    return info;
  }
  const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("python") || !doc["python"].is_string()) {
    info.problem = binary.string() + " info --json gave no python version";
    return info;
  }
  info.python = doc["python"].get<std::string>();
  if (doc.contains("executable") && doc["executable"].is_string())
    info.executable = doc["executable"].get<std::string>();
  if (doc.contains("free_threaded") && doc["free_threaded"].is_boolean())
    info.free_threaded = doc["free_threaded"].get<bool>();
  return info;
}

}  // namespace pyhost
