#include "cli/run_words.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace pyhost::cli {
namespace {

// Options of `run` (and global ones) that take no value; every other "-x"/"--xx" takes one.
constexpr std::array<std::string_view, 9> kFlags = {"-h",
                                                    "--help",
                                                    "--fresh-workers",
                                                    "--quiet",
                                                    "--no-summary",
                                                    "--sandbox",
                                                    "--sandbox-net",
                                                    "--sandbox-reuse-workers",
                                                    "--sandbox-best-effort"};

// True when the word carries no separate value: a flag, "--opt=value" or "-j2".
bool is_flag(std::string_view word) {
  const bool short_with_value = word.size() > 2 && word[0] == '-' && word[1] != '-';
  return short_with_value || word.find('=') != std::string_view::npos ||
         std::find(kFlags.begin(), kFlags.end(), word) != kFlags.end();
}

std::vector<std::string> g_target;

}  // namespace

RunWords split_run_words(const std::vector<std::string>& words) {
  RunWords split;
  // Global options before `run` take values too; find `run` as a command word, not a value.
  std::size_t i = 0;
  for (; i < words.size(); ++i) {
    const std::string& word = words[i];
    split.options.push_back(word);
    if (word == "run") break;
    if (word.rfind("-", 0) != 0) return {words, {}};  // another command: nothing to split
    if (!is_flag(word) && i + 1 < words.size()) split.options.push_back(words[++i]);
  }
  if (i >= words.size()) return {words, {}};
  for (++i; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (word == "-m" || word == "-c") {
      split.target.assign(words.begin() + static_cast<long>(i), words.end());
      return split;
    }
    if (word == "--") {
      split.target.assign(words.begin() + static_cast<long>(i) + 1, words.end());
      return split;
    }
    if (word.size() > 1 && word[0] == '-') {
      split.options.push_back(word);
      if (!is_flag(word) && i + 1 < words.size()) split.options.push_back(words[++i]);
      continue;
    }
    split.target.assign(words.begin() + static_cast<long>(i), words.end());
    return split;
  }
  return split;
}

void set_run_target_words(std::vector<std::string> target) {
  g_target = std::move(target);
}
const std::vector<std::string>& run_target_words() {
  return g_target;
}

}  // namespace pyhost::cli
