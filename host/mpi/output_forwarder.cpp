#include "mpi/output_forwarder.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace pyhost::mpi {

OutputForwarder::OutputForwarder() {
  for (int i = 0; i < 2; ++i) {
    Stream& stream = streams_[i];
    stream.target = i + 1;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      throw std::system_error(errno, std::generic_category(), "pipe for rank output");
    std::fflush(i == 0 ? stdout : stderr);
    stream.saved.reset(::fcntl(stream.target, F_DUPFD_CLOEXEC, 10));
    stream.read_end.reset(fds[0]);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    ::dup2(fds[1], stream.target);  // the write end lives on as fd 1 or 2
    ::close(fds[1]);
  }
}

std::vector<OutputForwarder::Chunk> OutputForwarder::take(bool all) {
  std::vector<Chunk> chunks;
  for (Stream& stream : streams_) {
    if (stream.read_end.get() < 0) continue;
    char buffer[64 * 1024];
    for (;;) {
      ssize_t n = ::read(stream.read_end.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      stream.pending.append(buffer, static_cast<std::size_t>(n));
    }
    const std::size_t end = all ? stream.pending.size() : stream.pending.rfind('\n') + 1;
    if (end == 0) continue;  // (rfind found no newline: npos + 1 == 0)
    chunks.push_back({stream.target, stream.pending.substr(0, end)});
    stream.pending.erase(0, end);
  }
  return chunks;
}

void OutputForwarder::restore() {
  if (restored_) return;
  restored_ = true;
  for (Stream& stream : streams_)
    if (stream.saved.get() >= 0) ::dup2(stream.saved.get(), stream.target);
}

}  // namespace pyhost::mpi
