// The Landlock ABI (include/uapi/linux/landlock.h), spelled out here: Debian 12's kernel headers
// stop at ABI 3, and the values are a stable kernel ABI.
#pragma once

#include <cstdint>

namespace pyhost::sandbox {

inline constexpr long kSysLandlockCreateRuleset = 444;  // the same number on every architecture
inline constexpr long kSysLandlockAddRule = 445;
inline constexpr long kSysLandlockRestrictSelf = 446;
inline constexpr std::uint32_t kLandlockCreateRulesetVersion = 1u << 0;
inline constexpr int kLandlockRulePathBeneath = 1;

struct LandlockRulesetAttr {
  std::uint64_t handled_access_fs = 0;
  std::uint64_t handled_access_net = 0;  // ABI 4
  std::uint64_t scoped = 0;              // ABI 6
};

struct __attribute__((packed)) LandlockPathBeneathAttr {
  std::uint64_t allowed_access = 0;
  std::int32_t parent_fd = -1;
};

namespace fs_access {
inline constexpr std::uint64_t kExecute = 1ull << 0, kWriteFile = 1ull << 1, kReadFile = 1ull << 2,
                               kReadDir = 1ull << 3, kRemoveDir = 1ull << 4,
                               kRemoveFile = 1ull << 5, kMakeChar = 1ull << 6, kMakeDir = 1ull << 7,
                               kMakeReg = 1ull << 8, kMakeSock = 1ull << 9, kMakeFifo = 1ull << 10,
                               kMakeBlock = 1ull << 11, kMakeSym = 1ull << 12,
                               kRefer = 1ull << 13,  // ABI 2
    kTruncate = 1ull << 14,                          // ABI 3
    kIoctlDev = 1ull << 15;                          // ABI 5
}  // namespace fs_access

inline constexpr std::uint64_t kScopeAbstractUnixSocket = 1ull << 0;  // ABI 6
inline constexpr std::uint64_t kScopeSignal = 1ull << 1;              // ABI 6

}  // namespace pyhost::sandbox
