#include "mpi/mpi_batch.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "batch/rank_runner.hpp"
#include "batch/rank_server.hpp"
#include "mpi/mpi_transport.hpp"
#include "util/files.hpp"
#include "util/process_info.hpp"

namespace pyhost::mpi {
namespace {

using nlohmann::json;
constexpr int kExitUsage = 2;

class MpiLink final : public batch::RankLink {
 public:
  explicit MpiLink(MpiTransport& mpi) : mpi_(mpi) {}
  int rank() const override { return mpi_.rank(); }
  int size() const override { return mpi_.size(); }
  void send(int dest, int tag, std::string bytes) override { mpi_.send(dest, tag, bytes); }
  std::optional<batch::LinkMessage> poll() override {
    auto message = mpi_.poll();
    if (!message) return std::nullopt;
    return batch::LinkMessage{message->source, message->tag, std::move(message->bytes)};
  }

 private:
  MpiTransport& mpi_;
};

int cores() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Rank 0's side of the batch: the ranks' hosts and cores, and the runner over them.
class RankEngine final : public batch::BatchEngine {
 public:
  RankEngine(batch::RankLink& link, std::vector<std::string> hosts, std::vector<int> cores)
      : link_(link), hosts_(std::move(hosts)), cores_(std::move(cores)) {}

  const std::vector<std::string>& rank_hosts() const override { return hosts_; }
  std::unique_ptr<batch::AttemptRunner> make_runner(int jobs) override {
    std::vector<int> capacity = cores_;
    if (jobs > 0) capacity.assign(hosts_.size(), jobs);
    slots_.emplace(hosts_, capacity);
    return std::make_unique<batch::RankRunner>(link_, *slots_, batch::peer_timeout(), self_exe());
  }
  // Tells every rank still there that the batch is over; true when a rank was lost.
  bool finish() {
    for (int rank = 1; rank < link_.size(); ++rank)
      if (!slots_ || !slots_->lost(rank)) link_.send(rank, batch::kBatchFinish, "{}\n");
    return slots_ && slots_->any_lost();
  }

 private:
  batch::RankLink& link_;
  std::vector<std::string> hosts_;
  std::vector<int> cores_;
  std::optional<batch::RankSlots> slots_;
};

int serve(MpiTransport& mpi, MpiLink& link) {
  link.send(0, batch::kBatchHello,
            batch::encode_message(
                {{"version", PYHOST_VERSION}, {"host", mpi.host()}, {"cores", cores()}}));
  const json verdict = batch::decode_message(mpi.wait_for(batch::kBatchVerdict).bytes);
  if (!verdict.at("ok").get<bool>()) {
    mpi.finalize();
    return kExitUsage;  // rank 0 says why
  }
  int status = 0;
  {
    TempDir scratch("pyhost-batch-rank");
    batch::SignalWatcher signals;
    batch::RankServer server(link, scratch.path(), batch::peer_timeout(), self_exe());
    status = server.serve(signals);
  }                               // the server's children are killed, the scratch directory removed
  if (status == 1) mpi.abort(1);  // rank 0 lost: end the MPI job rather than hang in it
  if (status != 0) std::_Exit(status);  // stopped by the launcher: no MPI_Finalize to wait in
  mpi.finalize();
  return 0;
}

}  // namespace

int run_batch_across_ranks(const batch::BatchOptions& options) {
  MpiTransport* mpi = nullptr;
  try {
    mpi = &MpiTransport::open();
  } catch (const MpiUnavailable& failure) {
    fmt::print(stderr, "pyhost batch: error: --engine mpi: {}\n", failure.what());
    return kExitUsage;
  }
  // What jobs read as pyhost.rank, pyhost.ranks and pyhost.host (inherited by their processes).
  ::setenv("PYHOST_RANK", std::to_string(mpi->rank()).c_str(), 1);
  ::setenv("PYHOST_RANKS", std::to_string(mpi->size()).c_str(), 1);
  ::setenv("PYHOST_HOST", mpi->host().c_str(), 1);
  MpiLink link(*mpi);
  if (mpi->rank() != 0) return serve(*mpi, link);

  if (mpi->size() == 1)
    fmt::print(stderr,
               "pyhost batch: --engine mpi with one rank: rank 0 runs every job (start pyhost "
               "under mpirun -n R for R ranks)\n");
  std::vector<std::string> hosts(static_cast<size_t>(mpi->size()));
  std::vector<int> rank_cores(hosts.size(), 1);
  hosts[0] = mpi->host();
  rank_cores[0] = cores();
  std::string problems;
  for (int seen = 1; seen < mpi->size(); ++seen) {
    const Message hello = mpi->wait_for(batch::kBatchHello);
    const json theirs = batch::decode_message(hello.bytes);
    const auto r = static_cast<size_t>(hello.source);
    hosts[r] = theirs.at("host").get<std::string>();
    rank_cores[r] = theirs.at("cores").get<int>();
    if (theirs.at("version") != PYHOST_VERSION)
      problems +=
          fmt::format("\n  rank {} ({}): pyhost {} differs from rank 0's pyhost {}", hello.source,
                      hosts[r], theirs.at("version").get<std::string>(), PYHOST_VERSION);
  }
  for (int rank = 1; rank < mpi->size(); ++rank)
    link.send(rank, batch::kBatchVerdict,
              batch::encode_message({{"ok", problems.empty()}, {"why", problems}}));
  if (!problems.empty()) {
    fmt::print(stderr,
               "pyhost batch: error: ranks refused, every rank must run the same pyhost:{}\n",
               problems);
    mpi->finalize();
    return kExitUsage;
  }

  RankEngine engine(link, hosts, rank_cores);
  int status = 1;
  try {
    status = batch::run_batch(options, &engine);
  } catch (const std::exception& e) {
    fmt::print(stderr, "pyhost batch: internal error: {}\n", e.what());
  }
  const bool lost = engine.finish();
  std::fflush(stdout);
  std::fflush(stderr);
  if (lost) {
    // MPI_Finalize would wait for the lost rank forever; the results are written.
    fmt::print(stderr, "pyhost batch: a rank was lost: ending the MPI job (MPI_Abort)\n");
    mpi->abort(status != 0 ? status : 1);
  }
  mpi->finalize();
  return status;
}

}  // namespace pyhost::mpi
