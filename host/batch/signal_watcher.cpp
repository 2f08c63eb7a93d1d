#include "batch/signal_watcher.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <system_error>

namespace pyhost::batch {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
std::atomic<int> g_write_fd{-1};
std::atomic<bool> g_active{false};

constexpr int kWatched[] = {SIGCHLD, SIGINT, SIGTERM};
struct sigaction g_previous[3];

extern "C" void on_signal(int sig) {
  int saved = errno;
  if (sig != SIGCHLD) g_stop_signal = sig;
  int fd = g_write_fd.load();
  if (fd >= 0) {
    char byte = 0;
    [[maybe_unused]] ssize_t n = ::write(fd, &byte, 1);  // full pipe: a wake-up is pending
  }
  errno = saved;
}

}  // namespace

SignalWatcher::SignalWatcher() {
  if (g_active.exchange(true)) throw std::logic_error("SignalWatcher: already active");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    g_active = false;
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  read_fd_ = fds[0];
  g_write_fd = fds[1];
  g_stop_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  for (int i = 0; i < 3; ++i) ::sigaction(kWatched[i], &sa, &g_previous[i]);
  // A signal blocked by the caller would never wake us.
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kWatched) sigaddset(&set, sig);
  ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

SignalWatcher::~SignalWatcher() {
  for (int i = 0; i < 3; ++i) ::sigaction(kWatched[i], &g_previous[i], nullptr);
  int write_fd = g_write_fd.exchange(-1);
  ::close(write_fd);
  ::close(read_fd_);
  g_active = false;
}

void SignalWatcher::wait(std::chrono::milliseconds timeout) {
  pollfd pfd{read_fd_, POLLIN, 0};
  int ms = static_cast<int>(std::max<long long>(0, timeout.count()));
  if (::poll(&pfd, 1, ms) > 0) {
    char buf[256];
    while (::read(read_fd_, buf, sizeof buf) > 0) {
    }
  }
}

int SignalWatcher::take_stop_signal() {
  int sig = g_stop_signal;
  g_stop_signal = 0;
  return sig;
}

}  // namespace pyhost::batch
