// `pyhost batch --engine mpi`, rank 0: an AttemptRunner that places each attempt on ranks (rank 0
// itself included) and runs it there as a child process. Each member of an attempt (one per rank
// of a `ranks = N` gang) is a LocalRunner child on rank 0 or a kBatchStart to another rank, which
// sends its outcome and output back (kBatchEnded); the output lands in rank 0's results directory
// where the scheduler reads it. A rank silent for the peer timeout is lost: its members end
// `crashed`, naming it, and it gets nothing more. Plain C++ over a RankLink: no MPI here.
#pragma once

#include "batch/attempt_runner.hpp"
#include "batch/rank_protocol.hpp"
#include "batch/rank_slots.hpp"

#include <map>

namespace pyhost::batch {

class RankRunner final : public AttemptRunner {
 public:
  // `link.rank()` is 0; `slots` (one entry per rank) outlives the runner and keeps which ranks
  // were lost. `self_exe`: commands naming it run the pyhost binary of the rank that runs them.
  RankRunner(RankLink& link, RankSlots& slots, std::chrono::seconds peer_timeout,
             std::filesystem::path self_exe);

  std::optional<std::string> impossible(const JobSpec& job) const override;
  bool has_room(const JobSpec& job) const override;
  void start(AttemptKey key, const JobSpec& job, const AttemptCommand& command) override;
  std::vector<AttemptEnd> take_ended() override;
  void signal(AttemptKey key, int sig) override;
  void wait(SignalWatcher& signals, std::chrono::milliseconds timeout) override;

  // Tells every live rank the batch is over.
  void finish();

 private:
  struct Member {
    int rank = 0;
    AttemptCommand command;  // its files on rank 0
    bool ended = false;
    ExitStatus exit;
    std::string error;
    bool lost = false;
  };
  struct Attempt {
    std::vector<Member> members;
    bool killed_rest = false;  // a member ended not ok: the others were killed
    size_t first_wrong = 0;    // ... that member, which the attempt ends as
  };

  // Sends heartbeats, reads messages, notices lost ranks and ended local members. True when
  // something happened.
  bool pump();
  void handle(const LinkMessage& message);
  void member_ended(AttemptKey key, size_t member, ExitStatus exit, std::string error, bool lost);
  void signal_member(AttemptKey key, size_t member, int sig);
  void send(int rank, int tag, std::string bytes);

  RankLink& link_;
  RankSlots& slots_;
  std::chrono::seconds timeout_;
  std::filesystem::path self_exe_;
  LocalRunner local_;  // rank 0's members; key: attempt key * kMaxMembers + member
  std::map<AttemptKey, Attempt> attempts_;
  std::vector<AttemptEnd> ended_;
  std::vector<std::chrono::steady_clock::time_point> last_heard_, last_sent_;
  std::chrono::milliseconds pause_{1};
};

inline constexpr AttemptKey kMaxMembers = 4096;  // 'ranks' is at most that

}  // namespace pyhost::batch
