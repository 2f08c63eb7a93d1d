#include "sandbox/worker_spec.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "sandbox/support.hpp"

namespace pyhost::sandbox {
namespace {

namespace fs = std::filesystem;

constexpr unsigned kNobody = 65534;

std::string resolve(const std::string& path, const char* option) {
  std::error_code ec;
  fs::path canonical = fs::canonical(path, ec);
  if (ec) throw PlanError(fmt::format("{} {}: {}", option, path, ec.message()));
  return canonical.string();
}

// As root, workers run as nobody. The sandbox shows each path at its place whatever its parents'
// modes (it binds them while still the host's root), but the path itself must let nobody read
// (or write) it. Returns the index of the first that does not.
int first_unusable(const std::vector<std::pair<std::string, int>>& checks) {
  if (::geteuid() != 0) return -1;
  for (std::size_t i = 0; i < checks.size(); ++i) {
    struct stat st {};
    if (::stat(checks[i].first.c_str(), &st) != 0) return static_cast<int>(i);
    const int shift = st.st_uid == kNobody ? 6 : st.st_gid == kNobody ? 3 : 0;
    const unsigned bits = (st.st_mode >> shift) & 7;
    unsigned need = checks[i].second & W_OK ? 2 : 4;
    if (S_ISDIR(st.st_mode)) need |= 1;
    if ((bits & need) != need) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

unsigned host_uid() {
  return ::geteuid() == 0 ? kNobody : ::geteuid();
}
unsigned host_gid() {
  return ::geteuid() == 0 ? kNobody : ::getegid();
}

WorkerSpec worker_spec(const RunPlan& plan) {
  WorkerSpec spec;
  spec.policy = plan.sandbox;
  spec.policy.read.clear();
  spec.policy.write.clear();
  std::vector<std::pair<std::string, int>> checks;
  for (const auto& path : plan.sandbox.read) {
    spec.policy.read.push_back(resolve(path, "--sandbox-read"));
    checks.emplace_back(spec.policy.read.back(), R_OK);
  }
  for (const auto& path : plan.sandbox.write) {
    spec.policy.write.push_back(resolve(path, "--sandbox-write"));
    const bool dir = fs::is_directory(spec.policy.write.back());
    checks.emplace_back(spec.policy.write.back(), dir ? W_OK | X_OK : W_OK);
  }
  if (plan.target.kind == TaskTarget::Kind::Script) {
    const std::string script = resolve(plan.target.value, "script");
    spec.policy.read.push_back(fs::path(script).parent_path().string());
    checks.emplace_back(script, R_OK);
  }
  std::error_code ec;
  spec.cwd = fs::current_path(ec).string();
  const int bad = first_unusable(checks);
  if (bad >= 0)
    throw PlanError(fmt::format(
        "--sandbox: {} is not {} by uid {} (as root, sandboxed workers run as nobody): give it "
        "to that user (chmod o+{} or chown) or run pyhost as an unprivileged user",
        checks[bad].first, checks[bad].second & W_OK ? "writable" : "readable", kNobody,
        checks[bad].second & W_OK ? "w" : "r"));
  const Support& found = support();
  spec.namespaces = found.user_namespaces.empty();
  spec.landlock = found.landlock.empty();
  spec.seccomp = found.seccomp.empty();
  spec.cgroup_dir = found.cgroup_dir;
  spec.memory_limit_mb = plan.memory_limit_mb;
  return spec;
}

void require_reachable(const WorkerSpec& spec, const std::vector<std::string>& reads) {
  if (spec.namespaces || ::geteuid() != 0) return;
  std::vector<std::pair<std::string, int>> checks;
  for (const auto& path : reads) checks.emplace_back(path, R_OK);
  for (const auto& path : spec.policy.read) checks.emplace_back(path, R_OK);
  for (const auto& path : spec.policy.write) checks.emplace_back(path, W_OK);
  for (auto& [path, mode] : checks)
    if (fs::is_directory(path)) mode |= X_OK;
  std::string unreachable;
  for (const auto& path : unreachable_as(host_uid(), host_gid(), checks))
    unreachable += "\n  " + path;
  if (unreachable.empty()) return;
  throw SandboxUnavailable(fmt::format(
      "--sandbox-best-effort without user namespaces: the workers run as uid {} (nobody) on the "
      "host's own file system, which cannot reach what they need (a directory on the way is "
      "not searchable, or the path not readable, by that user):{}\nInstall them where other "
      "users can read them, or run pyhost as an unprivileged user",
      kNobody, unreachable));
}

std::string encode(const WorkerSpec& spec) {
  const SandboxPolicy& p = spec.policy;
  const SandboxLimits& l = p.limits;
  return nlohmann::json{{"net", p.net},
                        {"read", p.read},
                        {"write", p.write},
                        {"limits",
                         {{"cpu_s", l.cpu_s},
                          {"procs", l.procs},
                          {"file_size_mb", l.file_size_mb},
                          {"open_files", l.open_files},
                          {"tmp_mb", l.tmp_mb}}},
                        {"cwd", spec.cwd},
                        {"namespaces", spec.namespaces},
                        {"landlock", spec.landlock},
                        {"seccomp", spec.seccomp},
                        {"cgroup_dir", spec.cgroup_dir},
                        {"memory_limit_mb", spec.memory_limit_mb}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

WorkerSpec decode(const std::string& json) {
  try {
    const auto doc = nlohmann::json::parse(json);
    WorkerSpec spec;
    SandboxPolicy& p = spec.policy;
    p.enabled = true;
    p.net = doc.at("net").get<bool>();
    p.read = doc.at("read").get<std::vector<std::string>>();
    p.write = doc.at("write").get<std::vector<std::string>>();
    const auto& l = doc.at("limits");
    p.limits.cpu_s = l.at("cpu_s").get<long>();
    p.limits.procs = l.at("procs").get<long>();
    p.limits.file_size_mb = l.at("file_size_mb").get<long>();
    p.limits.open_files = l.at("open_files").get<long>();
    p.limits.tmp_mb = l.at("tmp_mb").get<long>();
    spec.cwd = doc.at("cwd").get<std::string>();
    spec.namespaces = doc.at("namespaces").get<bool>();
    spec.landlock = doc.at("landlock").get<bool>();
    spec.seccomp = doc.at("seccomp").get<bool>();
    spec.cgroup_dir = doc.at("cgroup_dir").get<std::string>();
    spec.memory_limit_mb = doc.at("memory_limit_mb").get<long>();
    return spec;
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(std::string("bad --sandbox spec: ") + error.what());
  }
}

}  // namespace pyhost::sandbox
