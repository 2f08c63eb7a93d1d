// The CPythons a pyhost can run a script with, side by side (`pyhost info`'s `interpreters`,
// `pyhost compare --python`): the one this build embeds, its free-threaded companion pyhost-ft,
// and other pyhost builds registered by path (PYHOST_INTERPRETERS, --interpreter PATH), each
// asked with `PATH info --json` what it embeds. Each is run as a child, never loaded here: two
// CPythons cannot share a process.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pyhost {

// Environment variable: pyhost builds to register, separated by ':' (os.pathsep).
inline constexpr const char* kInterpretersEnv = "PYHOST_INTERPRETERS";

struct Interpreter {
  enum class Source { Self, Companion, Registered };
  std::string name;     // "3.13", "3.13t": major.minor, "t" when free-threaded
  std::string version;  // "3.13.0"
  bool free_threaded = false;
  std::filesystem::path pyhost;  // the pyhost build that embeds it
  Source source = Source::Self;
};

// A registered path that is not a working pyhost (`pyhost compare`/`info` exit with status 2).
class InterpreterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "3.13.0", false -> "3.13"; "3.13.1+", true -> "3.13t".
std::string interpreter_name(const std::string& version, bool free_threaded);

// The paths of PYHOST_INTERPRETERS' value (empty items skipped), then those of the flag.
std::vector<std::filesystem::path> registered_builds(const char* env,
                                                     const std::vector<std::string>& flags);

// What `<binary> info --json` says it embeds (a registered build, or the companion). Throws
// InterpreterError naming the binary when it cannot be started, does not answer within
// `timeout`, fails, or answers with no `python`.
Interpreter describe_pyhost_build(const std::filesystem::path& binary,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(60));

struct InterpreterList {
  std::vector<Interpreter> interpreters;  // this build's first, then the companion's, then the
                                          // registered ones in order
  std::vector<std::string> notes;         // a registered build left out, and why
  // nullptr for a name not in the list.
  const Interpreter* find(const std::string& name) const;
  std::string names() const;  // "3.13, 3.13t" for messages
};

// This build's interpreter (`self`), its companion (when one is found and answers: a companion
// that does not is left out, as `pyhost info` reports it), and every registered build: asked in
// turn, a registered path that is not a working pyhost throws InterpreterError. A registered
// build that is one already listed (the same file) is left out; one whose name is taken by a
// different version is named by its full version ("3.13.5"), and one of the same name and version
// is left out with a note. `companion`: the usable companion's interpreter, if any.
// `describe` asks a registered build (describe_pyhost_build; tests pass their own).
InterpreterList list_interpreters(
    const Interpreter& self, const std::optional<Interpreter>& companion,
    const std::vector<std::filesystem::path>& registered,
    const std::function<Interpreter(const std::filesystem::path&)>& describe);

}  // namespace pyhost
