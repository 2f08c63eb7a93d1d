// `pyhost batch --engine mpi` on the ranks other than 0: runs the members of attempts that rank 0
// sends (kBatchStart) as child processes, in a scratch directory of this rank, and sends each
// one's outcome and output back (kBatchEnded). Plain C++ over a RankLink: no MPI here.
#pragma once

#include "batch/attempt_runner.hpp"
#include "batch/rank_protocol.hpp"

#include <map>

namespace pyhost::batch {

class RankServer {
 public:
  // `scratch`: an empty directory of this rank's. `self_exe`: this rank's pyhost binary.
  RankServer(RankLink& link, std::filesystem::path scratch, std::chrono::seconds peer_timeout,
             std::filesystem::path self_exe);

  // Serves until rank 0 says the batch is over (returns 0), rank 0 is silent for the peer
  // timeout (1) or this process gets a second SIGINT/SIGTERM (128 + the signal; the first is
  // passed on to the running jobs). Children still running are killed when the server goes.
  int serve(SignalWatcher& signals);

  // One round of serve() without sleeping: messages, ended members, heartbeat. Returns the exit
  // status once serving is over; `busy`: something happened.
  std::optional<int> step(bool& busy);

 private:
  bool handle(const LinkMessage& message);  // true: the batch is over
  void send_ended(const AttemptEnd& end);

  RankLink& link_;
  std::filesystem::path scratch_;
  std::chrono::seconds timeout_;
  std::filesystem::path self_exe_;
  std::map<AttemptKey, AttemptCommand> running_;  // by local key, as relocated here
  LocalRunner local_;
  std::chrono::steady_clock::time_point last_heard_, last_sent_;
};

}  // namespace pyhost::batch
