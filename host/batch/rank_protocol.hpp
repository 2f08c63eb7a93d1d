// How the ranks of `pyhost batch --engine mpi` talk: the messages (tags and their encoding), the
// link they go over (MPI in host/mpi/mpi_batch.cpp, a fake in the unit tests), and how one
// attempt becomes one command per rank of its gang. Plain C++, no MPI.
#pragma once

#include "batch/job_command.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace pyhost::batch {

// Message tags. Apart from `pyhost run --engine mpi`'s (host/mpi/rank_session.cpp, small numbers): a
// batch never shares its MPI job with a run.
enum RankTag : int {
  kBatchHello = 101,  // rank -> 0: {version, host, cores}
  kBatchVerdict,      // 0 -> rank: {ok, why}
  kBatchStart,        // 0 -> rank: run one member of an attempt (see StartMessage)
  kBatchSignal,       // 0 -> rank: {key, member, sig}: signal that member's process group
  kBatchEnded,        // rank -> 0: a member ended; blobs: its stdout, stderr, pyhost run --json
  kBatchFinish,       // 0 -> rank: the batch is over
  kBatchAlive,        // either way, after a second without other messages: still here
};

struct LinkMessage {
  int source = 0, tag = 0;
  std::string bytes;
};

// The ranks' messages, as rank_runner.cpp and rank_server.cpp need them. One thread only.
class RankLink {
 public:
  virtual ~RankLink() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual void send(int dest, int tag, std::string bytes) = 0;
  virtual std::optional<LinkMessage> poll() = 0;  // never waits
};

// A message: a JSON header line, then raw blobs (job output need not be UTF-8), whose sizes the
// header lists under "blobs".
std::string encode_message(nlohmann::json header, const std::vector<std::string>& blobs = {});
// Throws std::runtime_error on a malformed message.
nlohmann::json decode_message(const std::string& bytes, std::vector<std::string>* blobs = nullptr);

// The most of each output file a rank sends back (the end of it, like the results' tails).
inline constexpr size_t kMaxShippedBytes = 64u << 20;

// Member `member` of `members` of an attempt: member 0 writes the attempt's own files; member k
// writes <stem>.member<k>.stdout/.stderr/.json (its `--json` argument follows). Every member gets
// PYHOST_JOB_RANK=k and PYHOST_JOB_RANKS=members.
AttemptCommand member_command(const AttemptCommand& command, int member, int members);

// Where a rank runs a member: the command with its files moved into `dir` (a rank's scratch
// directory, so that ranks sharing a file system do not write the same files).
AttemptCommand relocate_command(const AttemptCommand& command, const std::filesystem::path& dir,
                                const std::string& stem);

// `PYHOST_MPI_PEER_TIMEOUT` seconds (default 10): a rank silent that long is lost.
std::chrono::seconds peer_timeout();
inline constexpr auto kAliveEvery = std::chrono::seconds(1);

// A file's bytes, the last `max` of them when longer (and whether it was cut); "" if absent.
std::string read_shipped(const std::filesystem::path& path, size_t max, bool* cut = nullptr);

}  // namespace pyhost::batch
