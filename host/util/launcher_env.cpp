#include "util/launcher_env.hpp"

#include <unistd.h>

namespace pyhost {

bool is_launcher_variable(std::string_view name) {
  for (std::string_view prefix : {"OMPI_", "PMIX_", "PMI_", "PRTE_", "HYDRA_", "MPIR_"})
    if (name.starts_with(prefix)) return true;
  return false;
}

bool has_launcher_variables() {
  for (char** entry = environ; *entry; ++entry) {
    std::string_view text(*entry);
    if (is_launcher_variable(text.substr(0, text.find('=')))) return true;
  }
  return false;
}

std::vector<std::string> launcher_variables_set() {
  std::vector<std::string> names;
  for (char** entry = environ; *entry; ++entry) {
    std::string_view text(*entry);
    std::string_view name = text.substr(0, text.find('='));
    if (is_launcher_variable(name)) names.emplace_back(name);
  }
  return names;
}

}  // namespace pyhost
