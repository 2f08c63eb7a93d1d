#include "cli/interpreter_options.hpp"

#include <cstdlib>

#include "pyhost/interpreter.hpp"
#include "util/process_info.hpp"

namespace pyhost::cli {

KnownInterpreters known_interpreters(const std::vector<std::string>& flags) {
  KnownInterpreters known;
  const PythonInfo info = describe_python();
  Interpreter self;
  self.version = info.version;
  self.free_threaded = info.free_threaded;
  self.name = interpreter_name(info.version, info.free_threaded);
  self.pyhost = self_exe();
  // A free-threaded build is its own companion: it looks for none.
  std::optional<Interpreter> companion;
  if (!info.free_threaded) {
    if (auto binary = find_freethreaded_companion()) {
      known.companion = describe_freethreaded_companion(*binary);
      const CompanionInfo& c = *known.companion;
      if (c.problem.empty() && !c.python.empty())
        companion = Interpreter{interpreter_name(c.python, c.free_threaded), c.python,
                                c.free_threaded, c.binary, Interpreter::Source::Companion};
    }
  }
  known.list = list_interpreters(
      self, companion, registered_builds(std::getenv(kInterpretersEnv), flags),
      [](const std::filesystem::path& path) { return describe_pyhost_build(path); });
  return known;
}

}  // namespace pyhost::cli
