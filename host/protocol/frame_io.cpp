#include "protocol/frame_io.hpp"

#include "util/write_all.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace pyhost::proto {

bool FrameWriter::send(const Frame& frame) {
  const std::string bytes = encode(frame);
  std::lock_guard lock(mutex_);
  return write_all(fd_, bytes) == 0;
}

ReadStatus FrameReader::read(Frame& frame,
                             std::optional<std::chrono::steady_clock::time_point> deadline) {
  for (;;) {
    if (auto ready = decoder_.next()) {
      frame = std::move(*ready);
      return ReadStatus::Frame;
    }
    int wait_ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return ReadStatus::Timeout;
      wait_ms = static_cast<int>(std::min<long long>(left.count() + 1, 1000 * 60));
    }
    pollfd pfd{fd_, POLLIN, 0};
    int polled = ::poll(&pfd, 1, wait_ms);
    if (polled < 0 && errno != EINTR) return ReadStatus::Closed;
    if (polled <= 0) continue;
    char buffer[64 * 1024];
    ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return ReadStatus::Closed;
    decoder_.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
  }
}

}  // namespace pyhost::proto
