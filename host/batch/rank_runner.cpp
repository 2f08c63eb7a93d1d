#include "batch/rank_runner.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>

namespace pyhost::batch {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

namespace {

bool member_ok(const ExitStatus& exit, const std::string& error) {
  return error.empty() && exit.signal == 0 && exit.exit_code == 0;
}

void write_blob(const fs::path& path, const std::string& bytes) {
  if (path.empty()) return;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) spdlog::warn("batch: cannot write {}", path.string());
}

}  // namespace

RankRunner::RankRunner(RankLink& link, RankSlots& slots, std::chrono::seconds peer_timeout,
                       fs::path self_exe)
    : link_(link),
      slots_(slots),
      timeout_(peer_timeout),
      self_exe_(std::move(self_exe)),
      local_(static_cast<int>(kMaxMembers)),  // RankSlots counts rank 0's slots
      last_heard_(static_cast<size_t>(link.size()), SteadyClock::now()),
      last_sent_(static_cast<size_t>(link.size()), SteadyClock::now()) {}

std::optional<std::string> RankRunner::impossible(const JobSpec& job) const {
  return slots_.impossible(job.ranks, job.host);
}

bool RankRunner::has_room(const JobSpec& job) const {
  return slots_.find(job.ranks, job.host).has_value();
}

void RankRunner::start(AttemptKey key, const JobSpec& job, const AttemptCommand& command) {
  const auto ranks = slots_.find(job.ranks, job.host);
  if (!ranks) {  // the scheduler asked has_room() first
    AttemptEnd end;
    end.key = key;
    end.error = "no rank has room for it";
    ended_.push_back(std::move(end));
    return;
  }
  slots_.take(*ranks);
  Attempt& attempt = attempts_[key];
  attempt = {};
  const int members = static_cast<int>(ranks->size());
  for (int i = 0; i < members; ++i) {
    Member m;
    m.rank = (*ranks)[static_cast<size_t>(i)];
    m.command = member_command(command, i, members);
    std::error_code ec;
    if (i > 0) fs::remove(m.command.run_json, ec);  // never read a stale one
    attempt.members.push_back(std::move(m));
  }
  for (size_t i = 0; i < attempt.members.size(); ++i) {
    const Member& m = attempt.members[i];
    if (m.rank == link_.rank()) {
      local_.launch(key * kMaxMembers + i, m.command.launch);
      continue;
    }
    const LaunchSpec& launch = m.command.launch;
    nlohmann::json header = {
        {"key", key},
        {"member", i},
        {"self", launch.exe == self_exe_},
        {"exe", launch.exe.string()},
        {"args", launch.args},
        {"env", launch.env},
        {"cwd", launch.cwd.string()},
        {"run_json", m.command.run_json.string()},
    };
    send(m.rank, kBatchStart, encode_message(std::move(header)));
  }
}

std::vector<AttemptEnd> RankRunner::take_ended() {
  pump();
  return std::exchange(ended_, {});
}

void RankRunner::signal(AttemptKey key, int sig) {
  auto it = attempts_.find(key);
  if (it == attempts_.end()) return;
  for (size_t i = 0; i < it->second.members.size(); ++i)
    if (!it->second.members[i].ended) signal_member(key, i, sig);
}

void RankRunner::wait(SignalWatcher& signals, std::chrono::milliseconds timeout) {
  if (pump()) {
    pause_ = std::chrono::milliseconds(1);
    return;
  }
  // MPI has no descriptor to sleep on: poll again soon (child exits wake us at once).
  signals.wait(std::min(timeout, pause_));
  pause_ = std::min(pause_ * 2, std::chrono::milliseconds(16));
}

void RankRunner::finish() {
  for (int rank = 0; rank < link_.size(); ++rank)
    if (rank != link_.rank() && !slots_.lost(rank)) send(rank, kBatchFinish, "{}\n");
}

bool RankRunner::pump() {
  bool busy = false;
  auto now = SteadyClock::now();
  for (int rank = 0; rank < link_.size(); ++rank) {
    const auto r = static_cast<size_t>(rank);
    if (rank == link_.rank() || slots_.lost(rank)) continue;
    if (now - last_sent_[r] >= kAliveEvery) send(rank, kBatchAlive, "{}\n");
  }
  while (auto message = link_.poll()) {
    busy = true;
    handle(*message);
  }
  now = SteadyClock::now();
  for (int rank = 0; rank < link_.size(); ++rank) {
    if (rank == link_.rank() || slots_.lost(rank)) continue;
    if (now - last_heard_[static_cast<size_t>(rank)] <= timeout_) continue;
    // MPI reports no lost peer: silence is the sign (its pyhost killed or stopped, its node or
    // network gone). Its members end crashed; the scheduler retries them elsewhere if it may.
    slots_.lose(rank);
    busy = true;
    const std::string why = fmt::format("rank {} ({}) lost: no word from it for {} s", rank,
                                        slots_.host(rank), timeout_.count());
    fmt::print(stderr, "pyhost batch: {}; its running jobs are crashed, it gets no more\n", why);
    std::vector<std::pair<AttemptKey, size_t>> gone;
    for (const auto& [key, attempt] : attempts_)
      for (size_t i = 0; i < attempt.members.size(); ++i)
        if (attempt.members[i].rank == rank && !attempt.members[i].ended) gone.emplace_back(key, i);
    for (const auto& [key, i] : gone) member_ended(key, i, {}, why, true);
  }
  for (AttemptEnd& end : local_.take_ended()) {
    busy = true;
    member_ended(end.key / kMaxMembers, end.key % kMaxMembers, end.exit, std::move(end.error),
                 false);
  }
  return busy || !ended_.empty();
}

void RankRunner::handle(const LinkMessage& message) {
  if (message.source < 0 || message.source >= link_.size()) return;
  last_heard_[static_cast<size_t>(message.source)] = SteadyClock::now();
  if (message.tag == kBatchAlive) return;
  if (message.tag != kBatchEnded) {
    spdlog::warn("batch: unexpected message {} from rank {}", message.tag, message.source);
    return;
  }
  std::vector<std::string> blobs;
  const nlohmann::json header = decode_message(message.bytes, &blobs);
  const auto key = header.at("key").get<AttemptKey>();
  const auto member = header.at("member").get<size_t>();
  auto it = attempts_.find(key);
  if (it == attempts_.end() || member >= it->second.members.size() ||
      it->second.members[member].ended)
    return;  // ended already (its rank was taken as lost)
  const Member& m = it->second.members[member];
  blobs.resize(3);
  write_blob(m.command.launch.stdout_path, blobs[0]);
  write_blob(m.command.launch.stderr_path, blobs[1]);
  if (header.value("has_json", false)) write_blob(m.command.run_json, blobs[2]);
  ExitStatus exit;
  if (header.at("exit_code").is_number()) exit.exit_code = header.at("exit_code").get<int>();
  exit.signal = header.value("signal", 0);
  exit.cpu_s = header.value("cpu_s", 0.0);
  member_ended(key, member, exit, header.value("error", std::string()), false);
}

void RankRunner::member_ended(AttemptKey key, size_t member, ExitStatus exit, std::string error,
                              bool lost) {
  auto it = attempts_.find(key);
  if (it == attempts_.end() || member >= it->second.members.size()) return;
  Attempt& attempt = it->second;
  Member& m = attempt.members[member];
  if (m.ended) return;
  m.ended = true;
  m.exit = exit;
  m.error = std::move(error);
  m.lost = lost;
  if (!lost) slots_.release(m.rank);
  // A gang fails as one: the members still running would wait for the one gone.
  if (!member_ok(m.exit, m.error) && !attempt.killed_rest) {
    attempt.killed_rest = true;
    attempt.first_wrong = member;
    for (size_t i = 0; i < attempt.members.size(); ++i)
      if (!attempt.members[i].ended) signal_member(key, i, SIGKILL);
  }
  if (!std::all_of(attempt.members.begin(), attempt.members.end(),
                   [](const Member& x) { return x.ended; }))
    return;

  AttemptEnd end;
  end.key = key;
  // The attempt ends as the member that went wrong first (the others were killed for it), else
  // as member 0.
  const Member* shown = &attempt.members[attempt.first_wrong];
  end.exit = shown->exit;
  end.exit.cpu_s = 0;
  for (const Member& x : attempt.members) {
    end.exit.cpu_s += x.exit.cpu_s;
    end.ranks.push_back(x.rank);
    end.hosts.push_back(slots_.host(x.rank));
  }
  end.error = shown->error;
  end.lost = shown->lost;
  attempts_.erase(it);
  ended_.push_back(std::move(end));
}

void RankRunner::signal_member(AttemptKey key, size_t member, int sig) {
  const Member& m = attempts_.at(key).members.at(member);
  if (m.rank == link_.rank()) {
    local_.signal(key * kMaxMembers + member, sig);
  } else if (!slots_.lost(m.rank)) {
    send(m.rank, kBatchSignal, encode_message({{"key", key}, {"member", member}, {"sig", sig}}));
  }
}

void RankRunner::send(int rank, int tag, std::string bytes) {
  link_.send(rank, tag, std::move(bytes));
  last_sent_[static_cast<size_t>(rank)] = SteadyClock::now();
}

}  // namespace pyhost::batch
