#include "util/interpreters.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

#include "util/child_process.hpp"
#include "util/companion.hpp"

namespace fs = std::filesystem;

namespace pyhost {
namespace {

// The same file (a symlink to a listed build, or the build itself named another way).
bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec);
}

}  // namespace

std::string interpreter_name(const std::string& version, bool free_threaded) {
  const auto first = version.find('.');
  const auto second = first == std::string::npos ? first : version.find('.', first + 1);
  return version.substr(0, second) + (free_threaded ? "t" : "");
}

std::vector<fs::path> registered_builds(const char* env, const std::vector<std::string>& flags) {
  std::vector<fs::path> paths;
  if (env != nullptr) {
    std::stringstream in(env);
    for (std::string item; std::getline(in, item, ':');)
      if (!item.empty()) paths.emplace_back(item);
  }
  for (const auto& flag : flags)
    if (!flag.empty()) paths.emplace_back(flag);
  return paths;
}

Interpreter describe_pyhost_build(const fs::path& binary, std::chrono::milliseconds timeout) {
  const std::string what = "'" + binary.string() + "' is not a working pyhost build: ";
  std::error_code ec;
  if (!fs::is_regular_file(binary, ec))
    throw InterpreterError(what + (fs::exists(binary, ec) ? "not a regular file" : "no such file"));
  if (::access(binary.c_str(), X_OK) != 0) throw InterpreterError(what + "not executable");
  CapturedRun run;
  try {
    ChildSpec spec;
    spec.exe = binary;
    spec.args = {"info", "--json"};
    // It says what it embeds itself: no companion or registered builds of its own to ask.
    spec.set_env[kFreethreadedCompanionEnv] = "";
    spec.set_env[kInterpretersEnv] = "";
    run = run_captured(std::move(spec), timeout, /*merge_stderr=*/false);
  } catch (const std::exception& error) {
    throw InterpreterError(what + error.what());
  }
  if (run.timed_out)
    throw InterpreterError(what + "`info --json` did not answer within " +
                           std::to_string(timeout.count() / 1000) + " s");
  if (run.status.exit_code != 0)
    throw InterpreterError(what + "`info --json` " + run.status.describe());
  const auto doc = nlohmann::json::parse(run.output, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("python") || !doc["python"].is_string())
    throw InterpreterError(what + "`info --json` gave no python version");
  Interpreter interpreter;
  interpreter.version = doc["python"].get<std::string>();
  interpreter.free_threaded = doc.value("free_threaded", false);
  interpreter.name = interpreter_name(interpreter.version, interpreter.free_threaded);
  interpreter.pyhost = fs::absolute(binary, ec);
  if (ec) interpreter.pyhost = binary;
  interpreter.source = Interpreter::Source::Registered;
  return interpreter;
}

const Interpreter* InterpreterList::find(const std::string& name) const {
  for (const auto& interpreter : interpreters)
    if (interpreter.name == name) return &interpreter;
  return nullptr;
}

std::string InterpreterList::names() const {
  std::string out;
  for (const auto& interpreter : interpreters) out += (out.empty() ? "" : ", ") + interpreter.name;
  return out;
}

InterpreterList list_interpreters(const Interpreter& self,
                                  const std::optional<Interpreter>& companion,
                                  const std::vector<fs::path>& registered,
                                  const std::function<Interpreter(const fs::path&)>& describe) {
  InterpreterList list;
  list.interpreters.push_back(self);
  if (companion) list.interpreters.push_back(*companion);
  for (const auto& path : registered) {
    Interpreter found = describe(path);  // throws for a path that is not a working pyhost
    bool listed = false;
    for (const auto& other : list.interpreters) {
      if (same_file(other.pyhost, path)) {
        listed = true;
        break;
      }
    }
    if (listed) continue;
    // The same CPython (version and ABI) as one listed: nothing new to compare.
    const auto same = std::find_if(
        list.interpreters.begin(), list.interpreters.end(), [&](const Interpreter& other) {
          return other.version == found.version && other.free_threaded == found.free_threaded;
        });
    if (same != list.interpreters.end()) {
      list.notes.push_back(path.string() + " left out: CPython " + found.version +
                           " is already listed as " + same->name + " (" + same->pyhost.string() +
                           ")");
      continue;
    }
    // Another patch release under a name taken: named by its full version.
    if (list.find(found.name)) found.name = found.version + (found.free_threaded ? "t" : "");
    list.interpreters.push_back(std::move(found));
  }
  return list;
}

}  // namespace pyhost
