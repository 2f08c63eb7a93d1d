// The scheduler over RankRunner, with RankServers on threads for the other ranks and an in-memory
// network for MPI: jobs spread over ranks with their output back on rank 0, gangs (ranks = N),
// hosts, timeouts of remote jobs, a lost rank.
#include "batch/rank_runner.hpp"
#include "batch/rank_server.hpp"
#include "batch/scheduler.hpp"
#include "util/files.hpp"

#include "batch_test_util.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace pyhost::batch {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;

struct FakeNetwork {
  explicit FakeNetwork(int ranks) : inbox(static_cast<size_t>(ranks)) {}
  std::mutex mutex;
  std::vector<std::deque<LinkMessage>> inbox;
};

class FakeLink final : public RankLink {
 public:
  FakeLink(FakeNetwork& net, int rank) : net_(net), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return static_cast<int>(net_.inbox.size()); }
  void send(int dest, int tag, std::string bytes) override {
    std::lock_guard lock(net_.mutex);
    net_.inbox.at(static_cast<size_t>(dest)).push_back({rank_, tag, std::move(bytes)});
  }
  std::optional<LinkMessage> poll() override {
    std::lock_guard lock(net_.mutex);
    auto& box = net_.inbox.at(static_cast<size_t>(rank_));
    if (box.empty()) return std::nullopt;
    LinkMessage m = std::move(box.front());
    box.pop_front();
    return m;
  }

 private:
  FakeNetwork& net_;
  int rank_;
};

struct ResultRecorder : SchedulerObserver {
  void job_finished(const JobResult& r) override { results[r.name] = r; }
  void tick(const Progress&) override {
    if (on_tick) on_tick();
  }
  std::map<std::string, JobResult> results;
  std::function<void()> on_tick;
};

class RankRunnerTest : public ::testing::Test {
 protected:
  JobSpec& job(const std::string& name, const std::string& script) {
    JobSpec s;
    s.name = name;
    s.kind = TaskTarget::Kind::Code;
    s.target = script;
    s.cwd = dir_.path();
    specs_.push_back(s);
    return specs_.back();
  }

  // Runs every job on ranks with these hosts, one job at a time on each rank.
  void run(std::vector<std::string> hosts,
           std::chrono::seconds peer_timeout = std::chrono::seconds(10)) {
    const int n = static_cast<int>(hosts.size());
    FakeNetwork net(n);
    std::vector<std::unique_ptr<ScratchDir>> scratch;
    std::vector<std::thread> servers;
    for (int r = 1; r < n; ++r) {
      scratch.push_back(std::make_unique<ScratchDir>());
      servers.emplace_back([&, r, where = scratch.back()->path()] {
        FakeLink link(net, r);
        RankServer server(link, where, std::chrono::seconds(30), "/nonexistent/pyhost");
        for (;;) {
          if (frozen_[static_cast<size_t>(r)]) return;  // lost: says nothing more
          bool busy = false;
          if (server.step(busy)) return;
          if (!busy) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      });
    }
    std::vector<PlannedJob> plan;
    for (const auto& s : specs_) plan.push_back({&s, {}, false});
    auto command = [this](const JobSpec& j, int attempt) {
      AttemptCommand c;
      c.launch.exe = "/bin/sh";
      c.launch.args = {"-c", j.target};
      c.launch.cwd = j.cwd;
      c.launch.env = {{"ATTEMPT", std::to_string(attempt)}};
      const std::string stem = fmt::format("{}.attempt{}", j.name, attempt);
      c.launch.stdout_path = dir_.path() / (stem + ".stdout");
      c.launch.stderr_path = dir_.path() / (stem + ".stderr");
      return c;
    };
    FakeLink link(net, 0);
    RankSlots slots(hosts, std::vector<int>(static_cast<size_t>(n), 1));
    {
      RankRunner runner(link, slots, peer_timeout, "/nonexistent/pyhost");
      SchedulerConfig config;
      config.backoff_base = std::chrono::milliseconds(20);
      config.kill_grace = std::chrono::milliseconds(300);
      SignalWatcher signals;
      Scheduler scheduler(std::move(plan), config, command, rec_, Clock::now(), runner);
      scheduler.run(signals);
      runner.finish();
    }
    for (auto& t : servers) t.join();
    lost_ = slots.any_lost();
  }

  const JobResult& result(const std::string& name) { return rec_.results.at(name); }

  ScratchDir dir_;
  std::deque<JobSpec> specs_;
  ResultRecorder rec_;
  std::array<std::atomic<bool>, 8> frozen_{};  // per rank: gone silent
  bool lost_ = false;
};

TEST_F(RankRunnerTest, JobsSpreadOverRanksAndTheirOutputComesBack) {
  for (int i = 0; i < 6; ++i)
    job(fmt::format("j{}", i), fmt::format("echo out {}; echo err {} >&2; sleep 0.1", i, i));
  job("fail", "exit 3");
  job("crash", "kill -ABRT $$");
  run({"a", "b", "c"});
  std::set<int> ranks;
  for (int i = 0; i < 6; ++i) {
    const JobResult& r = result(fmt::format("j{}", i));
    ASSERT_EQ(r.status, Status::Ok) << r.reason;
    const AttemptResult& a = r.attempts.at(0);
    EXPECT_EQ(a.out.text, fmt::format("out {}\n", i));
    EXPECT_EQ(a.err.text, fmt::format("err {}\n", i));
    EXPECT_EQ(read_file(a.stdout_path), a.out.text) << "written on rank 0";
    ASSERT_EQ(a.ranks.size(), 1u);
    EXPECT_EQ(a.hosts.at(0), std::string(1, static_cast<char>('a' + a.ranks[0])));
    ranks.insert(a.ranks[0]);
  }
  EXPECT_EQ(ranks, (std::set<int>{0, 1, 2}));
  EXPECT_EQ(result("fail").status, Status::Failed);
  EXPECT_EQ(result("fail").attempts.at(0).exit_code, 3);
  EXPECT_EQ(result("crash").status, Status::Crashed);
  EXPECT_EQ(result("crash").attempts.at(0).signal, "SIGABRT");
  EXPECT_FALSE(lost_);
}

TEST_F(RankRunnerTest, AGangRunsOnDistinctRanksAndFailsAsOne) {
  job("gang", "echo member $PYHOST_JOB_RANK of $PYHOST_JOB_RANKS").ranks = 3;
  auto& bad = job("bad_gang", "[ $PYHOST_JOB_RANK = 2 ] && exit 4; sleep 30");
  bad.ranks = 3;
  run({"a", "b", "c"});
  const AttemptResult& a = result("gang").attempts.at(0);
  EXPECT_EQ(result("gang").status, Status::Ok);
  EXPECT_EQ((std::set<int>(a.ranks.begin(), a.ranks.end())), (std::set<int>{0, 1, 2}));
  EXPECT_EQ(a.out.text, "member 0 of 3\n");
  EXPECT_EQ(read_file(dir_.path() / "gang.attempt1.member1.stdout"), "member 1 of 3\n");
  EXPECT_EQ(read_file(dir_.path() / "gang.attempt1.member2.stdout"), "member 2 of 3\n");
  EXPECT_EQ(result("bad_gang").status, Status::Failed) << "the others were killed for it";
  EXPECT_EQ(result("bad_gang").attempts.at(0).exit_code, 4);
}

TEST_F(RankRunnerTest, HostsPinJobsAndRemoteTimeoutsStopThem) {
  job("on_a", "true").host = "a";
  job("on_b", "true").host = "b";
  auto& slow = job("slow_on_b", "sleep 30");
  slow.host = "b";
  slow.timeout_s = 0.3;
  run({"a", "b", "b"});
  EXPECT_EQ(result("on_a").attempts.at(0).ranks, std::vector<int>{0});
  EXPECT_NE(result("on_b").attempts.at(0).ranks, std::vector<int>{0});
  EXPECT_EQ(result("slow_on_b").status, Status::Timeout);
  EXPECT_EQ(result("slow_on_b").attempts.at(0).hosts, std::vector<std::string>{"b"});
}

TEST_F(RankRunnerTest, ALostRanksJobsCrashAndRetryOnAnotherRank) {
  // The first attempt runs on rank 1 (host b's first), which then goes silent.
  auto& victim = job("victim", "if [ ! -e started ]; then touch started; sleep 30; fi");
  victim.host = "b";
  victim.retries = 1;
  rec_.on_tick = [this] {
    if (std::filesystem::exists(dir_.path() / "started")) frozen_[1] = true;
  };
  run({"a", "b", "b"}, std::chrono::seconds(2));
  const JobResult& r = result("victim");
  ASSERT_EQ(r.attempts.size(), 2u);
  EXPECT_EQ(r.attempts[0].status, Status::Crashed);
  EXPECT_EQ(r.attempts[0].reason, "rank 1 (b) lost: no word from it for 2 s");
  EXPECT_EQ(r.attempts[0].ranks, std::vector<int>{1});
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.attempts[1].ranks, std::vector<int>{2});
  EXPECT_TRUE(lost_);
}

TEST_F(RankRunnerTest, AJobNoLiveRankCanRunFailsWithoutStarting) {
  auto& victim = job("victim", "touch started; sleep 30");
  victim.host = "b";
  victim.retries = 1;
  rec_.on_tick = [this] {
    if (std::filesystem::exists(dir_.path() / "started")) frozen_[1] = true;
  };
  run({"a", "b"}, std::chrono::seconds(2));
  const JobResult& r = result("victim");
  ASSERT_EQ(r.attempts.size(), 1u);
  EXPECT_EQ(r.status, Status::Crashed);
  EXPECT_THAT(r.reason, HasSubstr("no retry: it needs 1 rank on host 'b'"));
}

}  // namespace
}  // namespace pyhost::batch
