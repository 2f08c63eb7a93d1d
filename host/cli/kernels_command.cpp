// `pyhost kernels list|clear`: the on-disk cache of compiled @pyhost.kernel code.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <ctime>
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "kernels/kernel_cache.hpp"

namespace pyhost::cli {
namespace {

std::string human_size(std::uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < 1024 * 1024) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024.0));
}

std::string local_time(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

int list_entries(bool json) {
  kernels::KernelCache cache(kernels::KernelCache::default_dir());
  if (!cache.usable()) {
    fmt::print(stderr, "pyhost: kernel cache unavailable: {}\n", cache.problem());
    return kExitFailure;
  }
  const auto entries = cache.list();
  if (json) {
    nlohmann::json doc = {{"directory", cache.dir().string()},
                          {"entries", nlohmann::json::array()}};
    for (const auto& e : entries) {
      doc["entries"].push_back({{"key", e.key},
                                {"kind", e.kind},
                                {"name", e.name},
                                {"arch", e.arch},
                                {"size", e.size},
                                {"created", e.created},
                                {"path", e.payload.string()}});
    }
    fmt::print("{}\n", doc.dump(2));
    return kExitOk;
  }
  fmt::print("kernel cache: {}\n", cache.dir().string());
  if (entries.empty()) {
    fmt::print("(empty)\n");
    return kExitOk;
  }
  fmt::print("{:<16}  {:<5}  {:<10}  {:>10}  {:<19}  {}\n", "KEY", "KIND", "TARGET", "SIZE",
             "CREATED", "KERNEL");
  std::uint64_t total = 0;
  for (const auto& e : entries) {
    total += e.size;
    fmt::print("{:<16}  {:<5}  {:<10}  {:>10}  {:<19}  {}\n", e.key.substr(0, 16), e.kind, e.arch,
               human_size(e.size), local_time(e.created), e.name);
  }
  fmt::print("{} entr{}, {}\n", entries.size(), entries.size() == 1 ? "y" : "ies",
             human_size(total));
  return kExitOk;
}

int clear_entries() {
  kernels::KernelCache cache(kernels::KernelCache::default_dir());
  if (!cache.usable()) {
    fmt::print(stderr, "pyhost: kernel cache unavailable: {}\n", cache.problem());
    return kExitFailure;
  }
  const std::size_t n = cache.clear();
  fmt::print("removed {} kernel{} from {}\n", n, n == 1 ? "" : "s", cache.dir().string());
  return kExitOk;
}

}  // namespace

Command add_kernels_command(CLI::App& parent) {
  struct Args {
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* app = parent.add_subcommand(
      "kernels",
      "Manage the cache of compiled @pyhost.kernel code "
      "($PYHOST_KERNEL_CACHE, $XDG_CACHE_HOME/pyhost/kernels or ~/.cache/pyhost/kernels).");
  app->require_subcommand(1);
  CLI::App* list = app->add_subcommand("list", "List the cached kernels.");
  list->add_flag("--json", args->json, "print as JSON");
  CLI::App* clear = app->add_subcommand("clear", "Remove every cached kernel.");
  return {app, [args, list, clear] {
            if (list->parsed()) return list_entries(args->json);
            if (clear->parsed()) return clear_entries();
            return kExitUsage;
          }};
}

}  // namespace pyhost::cli
