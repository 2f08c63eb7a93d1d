#include "util/host_signals.hpp"

#include <signal.h>

#include <atomic>

namespace pyhost {
namespace {

std::atomic<int> g_received{0};
struct sigaction g_previous_int {
}, g_previous_term{};

void on_signal(int signo) {
  int expected = 0;
  g_received.compare_exchange_strong(expected, signo);
}

}  // namespace

HostSignals::HostSignals() {
  // A signal that stopped an earlier run of this process must not stop this one.
  g_received.store(0);
  struct sigaction action {};
  action.sa_handler = &on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
}

HostSignals::~HostSignals() {
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

int HostSignals::received() {
  return g_received.load();
}

int exit_code_for_signal(int signal) {
  return 128 + signal;
}

}  // namespace pyhost
