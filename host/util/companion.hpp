// The free-threaded companion binary: `pyhost-ft`, the same program built against a CPython
// configured with --disable-gil (3.13t), whose `--mode threads` runs Python threads in parallel.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace pyhost {

// File name of the companion next to `pyhost` (build/pyhost-ft, <prefix>/bin/pyhost-ft).
inline constexpr const char* kFreethreadedCompanionName = "pyhost-ft";
// Environment variable naming the companion explicitly; set but empty: no companion.
inline constexpr const char* kFreethreadedCompanionEnv = "PYHOST_FT_BIN";

// The companion binary, if there is one: $PYHOST_FT_BIN when set (and an executable file), else
// `pyhost-ft` in the directory of the running executable. nullopt when there is none (setup did
// not build it, or PYHOST_FT_BIN is empty). Does not start it; thread-safe.
std::optional<std::filesystem::path> find_freethreaded_companion();

// The same with the inputs spelt out (tests): `self_exe` is the running executable, `env` the
// value of PYHOST_FT_BIN or nullptr when it is not set.
std::optional<std::filesystem::path> find_freethreaded_companion(
    const std::filesystem::path& self_exe, const char* env);

// What `<binary> info --json` says about the companion's CPython.
struct CompanionInfo {
  std::filesystem::path binary;
  std::string python;      // "3.13.15"; empty when it could not be asked (see `problem`)
  std::string executable;  // its python3.13t
  bool free_threaded = false;
  std::string problem;     // why it could not be asked, empty when it answered
};

// Runs `<binary> info --json` (with PYHOST_FT_BIN set empty, so a companion never asks another)
// and reads its answer. Takes one start-up of the companion (tens of milliseconds).
CompanionInfo describe_freethreaded_companion(const std::filesystem::path& binary);

}  // namespace pyhost
