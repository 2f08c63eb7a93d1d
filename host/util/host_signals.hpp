// SIGINT/SIGTERM while a supervised run is in progress: the handler only records the signal;
// the supervisor acts on it (stops handing out tasks, stops the running ones).
#pragma once

namespace pyhost {

class HostSignals {
 public:
  HostSignals();   // installs the handlers
  ~HostSignals();  // restores the previous ones
  HostSignals(const HostSignals&) = delete;
  HostSignals& operator=(const HostSignals&) = delete;

  // The first signal received (SIGINT or SIGTERM), 0 if none.
  static int received();
};

// 130 for SIGINT, 143 for SIGTERM: the exit code of a run stopped by `signal`.
int exit_code_for_signal(int signal);

}  // namespace pyhost
