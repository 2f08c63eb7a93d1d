// The one loop that writes a buffer to a file descriptor, for the whole host: write(2) returns
// after part of the data (pipes, signals) or fails with EINTR when a signal arrives first, and
// every caller must go on until all is written. Header-only: the kernel engine (host/kernels,
// also built alone by bench/gpu_check) uses it too.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace pyhost {

// Writes all of `data` to `fd`, retrying short writes and EINTR. Returns 0 when everything was
// written, else the errno of the write that failed (the rest is not written).
inline int write_all(int fd, std::string_view data) noexcept {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

}  // namespace pyhost
