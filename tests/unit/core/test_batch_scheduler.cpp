// Scheduler, driven with /bin/sh jobs: concurrency limit, needs and skips, retries with
// back-off, timeouts, crashes, --fail-fast, and SIGINT/SIGTERM of pyhost.
#include "batch/scheduler.hpp"
#include "util/files.hpp"

#include "batch_test_util.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <signal.h>

#include <deque>
#include <map>

namespace pyhost::batch {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;

// Records what the scheduler reports.
struct Recorder : SchedulerObserver {
  void attempt_started(const JobSpec& job, int attempt, int) override {
    started.push_back(job.name + "#" + std::to_string(attempt));
    if (on_start) on_start(job);
  }
  void attempt_finished(const JobSpec& job, const AttemptResult&,
                        std::optional<double> retry_in) override {
    if (retry_in) retries[job.name].push_back(*retry_in);
  }
  void job_finished(const JobResult& r) override { results[r.name] = r; }
  void tick(const Progress& p) override {
    max_running = std::max(max_running, p.running);
    if (on_tick) on_tick();
  }

  std::vector<std::string> started;
  std::map<std::string, std::vector<double>> retries;
  std::map<std::string, JobResult> results;
  size_t max_running = 0;
  std::function<void(const JobSpec&)> on_start;
  std::function<void()> on_tick;
};

class SchedulerTest : public ::testing::Test {
 protected:
  // A job whose target is a shell script run with /bin/sh -c.
  JobSpec& job(const std::string& name, const std::string& script,
               std::vector<std::string> needs = {}) {
    JobSpec s;
    s.name = name;
    s.kind = TaskTarget::Kind::Code;
    s.target = script;
    s.needs = std::move(needs);
    s.cwd = dir_.path();
    specs_.push_back(s);
    return specs_.back();
  }

  int run(SchedulerConfig config = {}, std::vector<std::string> already_ok = {}) {
    config.backoff_base = std::chrono::milliseconds(20);
    config.kill_grace = std::chrono::milliseconds(300);
    std::vector<PlannedJob> plan;
    std::map<std::string, size_t> index;
    for (const auto& s : specs_) {
      PlannedJob p{&s, {}, false};
      for (const auto& n : s.needs) p.needs.push_back(index.at(n));
      p.already_ok = std::find(already_ok.begin(), already_ok.end(), s.name) != already_ok.end();
      index[s.name] = plan.size();
      plan.push_back(p);
    }
    auto command = [this](const JobSpec& j, int attempt) {
      AttemptCommand c;
      c.launch.exe = "/bin/sh";
      c.launch.args = {"-c", j.target};
      c.launch.cwd = j.cwd;
      c.launch.env = {{"ATTEMPT", std::to_string(attempt)}};
      std::string stem = fmt::format("{}.{}", j.name, attempt);
      c.launch.stdout_path = dir_.path() / (stem + ".out");
      c.launch.stderr_path = dir_.path() / (stem + ".err");
      c.run_json = dir_.path() / (stem + ".json");
      return c;
    };
    SignalWatcher signals;
    Scheduler scheduler(std::move(plan), config, command, rec_, Clock::now());
    return scheduler.run(signals);
  }

  const JobResult& result(const std::string& name) { return rec_.results.at(name); }

  ScratchDir dir_;
  std::deque<JobSpec> specs_;  // stable addresses
  Recorder rec_;
};

TEST_F(SchedulerTest, StatusesExitCodesAndOutput) {
  job("ok", "echo out; echo err >&2");
  job("fail", "exit 3");
  job("crash", "kill -ABRT $$");
  EXPECT_EQ(run({.max_jobs = 3}), 0);
  EXPECT_EQ(result("ok").status, Status::Ok);
  EXPECT_EQ(result("ok").attempts.at(0).out.text, "out\n");
  EXPECT_EQ(result("ok").attempts.at(0).err.text, "err\n");
  EXPECT_EQ(result("fail").status, Status::Failed);
  EXPECT_EQ(result("fail").attempts.at(0).exit_code, 3);
  EXPECT_EQ(result("fail").reason, "exit code 3");
  EXPECT_EQ(result("crash").status, Status::Crashed);
  EXPECT_EQ(result("crash").attempts.at(0).signal, "SIGABRT");
  EXPECT_EQ(result("crash").command.at(0), "/bin/sh");
}

TEST_F(SchedulerTest, NeedsOrderAndSkipsTransitively) {
  job("first", "echo 1 >> order");
  job("second", "echo 2 >> order", {"first"});
  job("bad", "exit 1", {"first"});
  job("after_bad", "touch after_bad.ran", {"bad"});
  job("after_after", "touch after_after.ran", {"after_bad", "second"});
  EXPECT_EQ(run({.max_jobs = 4}), 0);
  EXPECT_EQ(result("second").status, Status::Ok);
  EXPECT_EQ(result("after_bad").status, Status::Skipped);
  EXPECT_EQ(result("after_bad").reason, "needs 'bad', which ended failed");
  EXPECT_TRUE(result("after_bad").attempts.empty());
  EXPECT_EQ(result("after_after").status, Status::Skipped);
  EXPECT_EQ(result("after_after").reason, "needs 'after_bad', which was skipped");
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "after_bad.ran"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "after_after.ran"));
  EXPECT_EQ(read_file(dir_.path() / "order"), "1\n2\n");
  EXPECT_EQ(rec_.started.size(), 3u);
}

TEST_F(SchedulerTest, AtMostMaxJobsRunAtOnce) {
  // Each job records how many were running when it started (a marker file per running job).
  for (int i = 0; i < 4; ++i)
    job(fmt::format("j{}", i),
        "touch running.$$; ls running.* | wc -l >> counts; sleep 0.2; rm running.$$");
  EXPECT_EQ(run({.max_jobs = 2}), 0);
  std::string counts = read_file(dir_.path() / "counts");
  EXPECT_EQ(counts.find('3'), std::string::npos) << counts;
  EXPECT_EQ(counts.find('4'), std::string::npos) << counts;
  EXPECT_LE(rec_.max_running, 2u);
}

TEST_F(SchedulerTest, RetriesWithBackoffUntilSuccess) {
  job("flaky", "[ \"$ATTEMPT\" -ge 3 ]").retries = 5;
  job("hopeless", "exit 2").retries = 2;
  EXPECT_EQ(run({.max_jobs = 2}), 0);
  EXPECT_EQ(result("flaky").status, Status::Ok);
  EXPECT_EQ(result("flaky").attempts.size(), 3u);
  EXPECT_EQ(result("flaky").attempts[0].status, Status::Failed);
  EXPECT_THAT(rec_.retries["flaky"], ::testing::ElementsAre(0.02, 0.04)) << "doubling back-off";
  EXPECT_EQ(result("hopeless").status, Status::Failed);
  EXPECT_EQ(result("hopeless").attempts.size(), 3u);
}

TEST_F(SchedulerTest, TimeoutStopsTheWholeProcessGroup) {
  job("endless", "sleep 30 & wait").timeout_s = 0.3;
  job("stubborn", "trap '' TERM; while :; do sleep 0.05; done").timeout_s = 0.3;
  auto start = Clock::now();
  EXPECT_EQ(run({.max_jobs = 2}), 0);
  double took = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(result("endless").status, Status::Timeout);
  EXPECT_EQ(result("endless").reason, "timed out after 0.3 s");
  EXPECT_EQ(result("stubborn").status, Status::Timeout);
  EXPECT_EQ(result("stubborn").attempts[0].signal, "SIGKILL") << "SIGKILL after the grace";
  EXPECT_GE(result("endless").attempts[0].wall_s, 0.29);
  EXPECT_LT(took, 15.0);
}

TEST_F(SchedulerTest, TimeoutIsRetried) {
  auto& j = job("slow_first", "[ \"$ATTEMPT\" -ge 2 ] || sleep 30");
  j.timeout_s = 0.3;
  j.retries = 1;
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(result("slow_first").status, Status::Ok);
  EXPECT_EQ(result("slow_first").attempts[0].status, Status::Timeout);
}

TEST_F(SchedulerTest, FailFastStartsNothingNew) {
  job("bad", "exit 1");
  job("later", "touch later.ran", {"bad"});
  job("independent", "touch independent.ran");
  job("after_ok", "touch after_ok.ran", {"independent"});
  EXPECT_EQ(run({.max_jobs = 1, .fail_fast = true}), 0);
  EXPECT_EQ(result("bad").status, Status::Failed);
  EXPECT_EQ(result("independent").status, Status::Skipped);
  EXPECT_THAT(result("independent").reason, HasSubstr("--fail-fast after job 'bad' failed"));
  EXPECT_EQ(result("after_ok").status, Status::Skipped);
  EXPECT_EQ(rec_.started, std::vector<std::string>{"bad#1"});
}

TEST_F(SchedulerTest, AlreadyOkJobsDoNotRunButSatisfyNeeds) {
  job("done_before", "touch done_before.ran");
  job("next", "touch next.ran", {"done_before"});
  EXPECT_EQ(run({}, {"done_before"}), 0);
  EXPECT_FALSE(rec_.results.count("done_before"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "done_before.ran"));
  EXPECT_EQ(result("next").status, Status::Ok);
}

TEST_F(SchedulerTest, LaunchFailureIsAFailedAttempt) {
  job("nowhere", "exit 0").cwd = dir_.path() / "missing";
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(result("nowhere").status, Status::Failed);
  EXPECT_THAT(result("nowhere").reason, HasSubstr("cannot start"));
}

TEST_F(SchedulerTest, SigintStopsRunningJobsAndSkipsTheRest) {
  job("running", "sleep 30");
  job("waiting", "touch waiting.ran", {"running"});
  rec_.on_start = [](const JobSpec& j) {
    if (j.name == "running") ::kill(::getpid(), SIGINT);
  };
  auto start = Clock::now();
  EXPECT_EQ(run({.max_jobs = 1}), SIGINT);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 15.0);
  EXPECT_EQ(result("running").status, Status::Crashed);
  EXPECT_TRUE(result("running").interrupted);
  EXPECT_THAT(result("running").reason, HasSubstr("interrupted by SIGINT"));
  EXPECT_EQ(result("waiting").status, Status::Skipped);
  EXPECT_THAT(result("waiting").reason, HasSubstr("got SIGINT"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "waiting.ran"));
}

TEST_F(SchedulerTest, SigtermIsForwardedAndReported) {
  job("handles_term", "trap 'exit 7' TERM; touch ready; sleep 30 & wait");
  bool sent = false;
  rec_.on_tick = [&] {
    if (!sent && std::filesystem::exists(dir_.path() / "ready"))
      sent = ::kill(::getpid(), SIGTERM) == 0;
  };
  EXPECT_EQ(run(), SIGTERM);
  EXPECT_EQ(result("handles_term").status, Status::Failed);
  EXPECT_EQ(result("handles_term").attempts[0].exit_code, 7);
}

}  // namespace
}  // namespace pyhost::batch

namespace pyhost::batch {
namespace {

// A runner that runs nothing: every attempt ends at once with exit 0. Jobs on host "busy" find
// room only after a few asks; a job on host "gone" can never run.
struct FakeRunner : AttemptRunner {
  std::optional<std::string> impossible(const JobSpec& job) const override {
    if (job.host == "gone") return std::string("its host is gone");
    return std::nullopt;
  }
  bool has_room(const JobSpec& job) const override { return job.host != "busy" || ++asks > 3; }
  void start(AttemptKey key, const JobSpec& job, const AttemptCommand&) override {
    started.push_back(job.name);
    AttemptEnd end;
    end.key = key;
    end.exit.exit_code = 0;
    end.ranks = {7};
    end.hosts = {"h7"};
    ended.push_back(end);
  }
  std::vector<AttemptEnd> take_ended() override { return std::exchange(ended, {}); }
  void signal(AttemptKey, int) override {}
  void wait(SignalWatcher&, std::chrono::milliseconds) override {}

  mutable int asks = 0;
  std::vector<std::string> started;
  std::vector<AttemptEnd> ended;
};

TEST(SchedulerRunner, AJobWithoutRoomDoesNotHoldUpTheOthersAndAnImpossibleOneFails) {
  ScratchDir dir;
  std::deque<JobSpec> specs;
  for (auto [name, host] : {std::pair{"waits", "busy"}, {"free", ""}, {"never", "gone"}}) {
    JobSpec s;
    s.name = name;
    s.host = host;
    s.cwd = dir.path();
    specs.push_back(s);
  }
  std::vector<PlannedJob> plan;
  for (const auto& s : specs) plan.push_back({&s, {}, false});
  Recorder rec;
  FakeRunner runner;
  SignalWatcher signals;
  Scheduler scheduler(
      std::move(plan), {}, [](const JobSpec&, int) { return AttemptCommand{}; }, rec, Clock::now(),
      runner);
  EXPECT_EQ(scheduler.run(signals), 0);
  EXPECT_EQ(runner.started, (std::vector<std::string>{"free", "waits"}));
  EXPECT_EQ(rec.results.at("waits").status, Status::Ok);
  EXPECT_EQ(rec.results.at("waits").attempts.at(0).ranks, std::vector<int>{7});
  EXPECT_EQ(rec.results.at("never").status, Status::Failed);
  EXPECT_EQ(rec.results.at("never").reason, "not started: its host is gone");
  EXPECT_TRUE(rec.results.at("never").attempts.empty());
}

}  // namespace
}  // namespace pyhost::batch
