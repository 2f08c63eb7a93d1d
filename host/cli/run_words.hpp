// Splitting `pyhost [GLOBAL] run [OPTIONS] (SCRIPT | -m MODULE | -c CODE) [ARGS...]` into the
// words CLI11 parses and the target with its arguments, which go to the script untouched.
#pragma once

#include <string>
#include <vector>

namespace pyhost::cli {

struct RunWords {
  std::vector<std::string> options;  // everything up to the target
  std::vector<std::string>
      target;  // ["script.py", args...] or ["-m", mod, args...] or ["-c", code, ...]
};

RunWords split_run_words(const std::vector<std::string>& words);

void set_run_target_words(std::vector<std::string> target);
const std::vector<std::string>& run_target_words();

}  // namespace pyhost::cli
