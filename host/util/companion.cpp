#include "util/companion.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <iterator>
#include <string>

#include "util/boost_process.hpp"

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
  namespace bp = bpv1;
  CompanionInfo info;
  info.binary = binary;
  std::string text;
  try {
    bp::environment env = boost::this_process::environment();
    env[kFreethreadedCompanionEnv] = "";  // the companion must not look for one in turn
    bp::ipstream out;
    bp::child child(binary.string(), "info", "--json", env, bp::std_in < bp::null,
                    bp::std_out > out, bp::std_err > bp::null);
    text.assign(std::istreambuf_iterator<char>(out), std::istreambuf_iterator<char>());
    child.wait();
    if (child.exit_code() != 0) {
      info.problem = binary.string() + " info --json exited with status " +
                     std::to_string(child.exit_code());
      return info;
    }
  } catch (const std::exception& error) {
    info.problem = "cannot run " + binary.string() + ": " + error.what();
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
