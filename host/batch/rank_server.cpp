#include "batch/rank_server.hpp"

#include "batch/rank_runner.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace pyhost::batch {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

RankServer::RankServer(RankLink& link, fs::path scratch, std::chrono::seconds peer_timeout,
                       fs::path self_exe)
    : link_(link),
      scratch_(std::move(scratch)),
      timeout_(peer_timeout),
      self_exe_(std::move(self_exe)),
      local_(static_cast<int>(kMaxMembers)),  // rank 0 decides how many run here
      last_heard_(SteadyClock::now()),
      last_sent_(SteadyClock::now()) {}

int RankServer::serve(SignalWatcher& signals) {
  auto pause = std::chrono::milliseconds(1);
  int stop_signal = 0;
  for (;;) {
    if (int sig = signals.take_stop_signal()) {
      // The launcher signals every rank: rank 0 stops the batch the usual way, so pass the
      // signal on to this rank's jobs and report how they end. A second signal ends it at once.
      if (stop_signal) return 128 + sig;
      stop_signal = sig;
      for (const auto& [key, command] : running_) local_.signal(key, sig);
    }
    bool busy = false;
    if (auto status = step(busy)) return *status;
    if (busy) {
      pause = std::chrono::milliseconds(1);
      continue;
    }
    signals.wait(pause);  // a child's exit wakes it at once; MPI messages need polling
    pause = std::min(pause * 2, std::chrono::milliseconds(16));
  }
}

std::optional<int> RankServer::step(bool& busy) {
  while (auto message = link_.poll()) {
    busy = true;
    last_heard_ = SteadyClock::now();
    if (handle(*message)) return 0;
  }
  for (const AttemptEnd& end : local_.take_ended()) {
    busy = true;
    send_ended(end);
    last_sent_ = SteadyClock::now();
  }
  const auto now = SteadyClock::now();
  if (now - last_sent_ >= kAliveEvery) {
    link_.send(0, kBatchAlive, "{}\n");
    last_sent_ = now;
  }
  if (now - last_heard_ > timeout_) {
    fmt::print(stderr,
               "pyhost batch: rank {}: rank 0 lost: no word from it for {} s; stopping this "
               "rank's jobs\n",
               link_.rank(), timeout_.count());
    return 1;
  }
  return std::nullopt;
}

bool RankServer::handle(const LinkMessage& message) {
  switch (message.tag) {
    case kBatchAlive:
      return false;
    case kBatchFinish:
      return true;
    case kBatchStart: {
      const nlohmann::json h = decode_message(message.bytes);
      const auto key = h.at("key").get<AttemptKey>();
      const auto member = h.at("member").get<AttemptKey>();
      AttemptCommand command;
      command.launch.exe =
          h.at("self").get<bool>() ? self_exe_ : fs::path(h.at("exe").get<std::string>());
      command.launch.args = h.at("args").get<std::vector<std::string>>();
      command.launch.env = h.at("env").get<std::map<std::string, std::string>>();
      command.launch.cwd = h.at("cwd").get<std::string>();
      command.run_json = h.at("run_json").get<std::string>();
      AttemptCommand here =
          relocate_command(command, scratch_, fmt::format("{}.member{}", key, member));
      std::error_code ec;
      fs::remove(here.run_json, ec);
      const AttemptKey local_key = key * kMaxMembers + member;
      running_[local_key] = here;
      local_.launch(local_key, here.launch);
      return false;
    }
    case kBatchSignal: {
      const nlohmann::json h = decode_message(message.bytes);
      local_.signal(h.at("key").get<AttemptKey>() * kMaxMembers + h.at("member").get<AttemptKey>(),
                    h.at("sig").get<int>());
      return false;
    }
    default:
      spdlog::warn("batch: rank {}: unexpected message {} from rank {}", link_.rank(), message.tag,
                   message.source);
      return false;
  }
}

void RankServer::send_ended(const AttemptEnd& end) {
  auto it = running_.find(end.key);
  if (it == running_.end()) return;
  const AttemptCommand& here = it->second;
  std::error_code ec;
  const bool has_json = !here.run_json.empty() && fs::exists(here.run_json, ec);
  std::vector<std::string> blobs = {
      read_shipped(here.launch.stdout_path, kMaxShippedBytes),
      read_shipped(here.launch.stderr_path, kMaxShippedBytes),
      has_json ? read_shipped(here.run_json, kMaxShippedBytes) : std::string()};
  nlohmann::json header = {
      {"key", end.key / kMaxMembers},
      {"member", end.key % kMaxMembers},
      {"exit_code", end.exit.exit_code ? nlohmann::json(*end.exit.exit_code) : nlohmann::json()},
      {"signal", end.exit.signal},
      {"cpu_s", end.exit.cpu_s},
      {"error", end.error},
      {"has_json", has_json},
  };
  link_.send(0, kBatchEnded, encode_message(std::move(header), blobs));
  for (const fs::path& file : {here.launch.stdout_path, here.launch.stderr_path, here.run_json})
    if (!file.empty()) fs::remove(file, ec);
  running_.erase(it);
}

}  // namespace pyhost::batch
