#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/confine_steps.hpp"
#include "sandbox/landlock_abi.hpp"

namespace pyhost::sandbox {
namespace {

using namespace fs_access;

std::uint64_t all_fs_rights(int abi) {
  std::uint64_t rights = (1ull << 13) - 1;  // ABI 1: execute .. make_sym
  if (abi >= 2) rights |= kRefer;
  if (abi >= 3) rights |= kTruncate;
  if (abi >= 5) rights |= kIoctlDev;
  return rights;
}

// Rights that apply to a file (a rule on a file with directory rights is EINVAL).
constexpr std::uint64_t kFileRights = kExecute | kWriteFile | kReadFile | kTruncate | kIoctlDev;

std::uint64_t g_handled = 0;  // the ruleset's rights: a rule may allow no others (EINVAL)

bool add_rule(int ruleset, const std::string& path, std::uint64_t rights, std::string& why) {
  rights &= g_handled;
  const int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) return true;  // not in this sandbox (a path left out): nothing to allow
  struct stat st {};
  if (::fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) rights &= kFileRights;
  LandlockPathBeneathAttr rule;
  rule.allowed_access = rights;
  rule.parent_fd = fd;
  const long rc = ::syscall(kSysLandlockAddRule, ruleset, kLandlockRulePathBeneath, &rule, 0);
  const int error = errno;
  ::close(fd);
  if (rc != 0) {
    why = "landlock_add_rule(" + path + "): " + std::strerror(error);
    return false;
  }
  return true;
}

}  // namespace

bool restrict_with_landlock(const std::vector<Exposed>& exposed, bool net, bool new_root,
                            const std::string& private_tmp, std::string& why) {
  const int abi = static_cast<int>(
      ::syscall(kSysLandlockCreateRuleset, nullptr, 0, kLandlockCreateRulesetVersion));
  if (abi < 1) {
    why = std::string("Landlock: ") + std::strerror(errno);
    return false;
  }
  const std::uint64_t all = all_fs_rights(abi);
  LandlockRulesetAttr attr;
  attr.handled_access_fs = all;
  g_handled = all;
  if (abi >= 6) attr.scoped = kScopeAbstractUnixSocket | kScopeSignal;
  // Older kernels take the shorter struct (fields they do not know must be absent or zero).
  const std::size_t size = abi >= 6 ? sizeof attr : abi >= 4 ? 16 : 8;
  const int ruleset = static_cast<int>(::syscall(kSysLandlockCreateRuleset, &attr, size, 0));
  if (ruleset < 0) {
    why = std::string("landlock_create_ruleset: ") + std::strerror(errno);
    return false;
  }
  const std::uint64_t read = kExecute | kReadFile | kReadDir;
  bool ok = true;
  // In the new root only what is shown exists: listing its directories reveals nothing more.
  if (new_root) ok = add_rule(ruleset, "/", kReadDir, why);
  for (const std::string& path : system_paths(net)) ok = ok && add_rule(ruleset, path, read, why);
  for (const Exposed& entry : exposed)
    ok = ok && add_rule(ruleset, entry.path, entry.writable ? all : read, why);
  ok = ok && add_rule(ruleset, private_tmp, all, why) && add_rule(ruleset, "/dev/shm", all, why);
  ok = ok && add_rule(ruleset, "/proc", read | kWriteFile, why);
  // Device nodes: read and write, and (ABI 5) ioctl, as a terminal or /dev/null takes.
  for (const char* dev : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"})
    ok = ok && add_rule(ruleset, dev, kReadFile | kWriteFile | kTruncate | kIoctlDev, why);
  ok = ok && add_rule(ruleset, "/dev", kReadDir, why);
  if (ok && ::syscall(kSysLandlockRestrictSelf, ruleset, 0) != 0) {
    why = std::string("landlock_restrict_self: ") + std::strerror(errno);
    ok = false;
  }
  ::close(ruleset);
  return ok;
}

}  // namespace pyhost::sandbox
