// `--interpreter PATH` (info, compare) and PYHOST_INTERPRETERS: the CPythons a command can run a
// script with, side by side (util/interpreters.hpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/companion.hpp"
#include "util/interpreters.hpp"

namespace pyhost::cli {

// The option's help, shared by the commands that take it.
inline constexpr const char* kInterpreterFlagHelp =
    "register another pyhost build by path (repeatable; also PYHOST_INTERPRETERS, ':'-separated): "
    "its CPython joins `info` and `compare --python`";

struct KnownInterpreters {
  InterpreterList list;
  std::optional<CompanionInfo> companion;  // the companion as asked (with its problem), if found
};

// This build's CPython, its free-threaded companion's (when usable) and the registered builds'
// (PYHOST_INTERPRETERS, then `flags`). Throws InterpreterError for a registered path that is not
// a working pyhost.
KnownInterpreters known_interpreters(const std::vector<std::string>& flags);

}  // namespace pyhost::cli
