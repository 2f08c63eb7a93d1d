// Results model and file: JSON shape, atomic rewrite, --resume loading, output tails,
// classification of how a child ended, the child's command line.
#include "batch/attempt_outcome.hpp"
#include "batch/job_command.hpp"
#include "batch/job_result.hpp"
#include "batch/results_file.hpp"
#include "util/files.hpp"

#include "batch_test_util.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>

namespace pyhost::batch {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::ordered_json;
using testing::ScratchDir;

AttemptResult attempt(int n, Status status, double start, double end, double cpu) {
  AttemptResult a;
  a.attempt = n;
  a.status = status;
  a.exit_code = status == Status::Ok ? 0 : 1;
  a.start_s = start;
  a.end_s = end;
  a.wall_s = end - start;
  a.cpu_s = cpu;
  a.out = {"out\n", 4};
  a.err = {"err\n", 10};
  return a;
}

TEST(BatchResults, StatusNamesRoundTrip) {
  for (Status s : {Status::Ok, Status::Failed, Status::Crashed, Status::Timeout, Status::Skipped})
    EXPECT_EQ(status_from_string(to_string(s)), s);
  EXPECT_EQ(status_from_string("bogus"), std::nullopt);
}

TEST(BatchResults, JobJsonSumsAttempts) {
  JobResult r;
  r.name = "flaky";
  r.status = Status::Ok;
  r.attempts = {attempt(1, Status::Failed, 1.0, 1.5, 0.25), attempt(2, Status::Ok, 2.0, 3.0, 0.5)};
  r.attempts[0].reason = "exit code 1";
  r.command = {"pyhost", "run", "x.py"};
  json j = to_json(r);
  EXPECT_EQ(j["name"], "flaky");
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["attempts"], 2);
  EXPECT_EQ(j["exit_code"], 0);
  EXPECT_DOUBLE_EQ(j["start_s"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["wall_s"].get<double>(), 2.0) << "first start to last end";
  EXPECT_DOUBLE_EQ(j["cpu_s"].get<double>(), 0.75);
  EXPECT_EQ(j["stdout"], "out\n");
  EXPECT_EQ(j["stderr_truncated"], true);
  EXPECT_EQ(j["history"].size(), 2u);
  EXPECT_EQ(j["history"][0]["status"], "failed");
  EXPECT_EQ(j["history"][0]["reason"], "exit code 1");
  EXPECT_TRUE(j["signal"].is_null());
  EXPECT_EQ(j.begin().key(), "name") << "keys in a readable order";
}

TEST(BatchResults, SkippedJobJson) {
  JobResult r;
  r.name = "late";
  r.reason = "needs 'x', which ended failed";
  json j = to_json(r);
  EXPECT_EQ(j["status"], "skipped");
  EXPECT_EQ(j["attempts"], 0);
  EXPECT_TRUE(j["exit_code"].is_null());
  EXPECT_TRUE(j["wall_s"].is_null());
  EXPECT_EQ(j["reason"], "needs 'x', which ended failed");
}

TEST(BatchResults, StripRunOutputs) {
  json run = {{"mode", "serial"}, {"tasks", {{{"id", 0}, {"stdout", "x"}, {"stderr", "y"}}}}};
  json stripped = strip_run_outputs(run);
  EXPECT_FALSE(stripped["tasks"][0].contains("stdout"));
  EXPECT_EQ(stripped["tasks"][0]["id"], 0);
  EXPECT_TRUE(strip_run_outputs(json()).is_null());
}

TEST(BatchResults, DocumentListsFinishedJobsInPlanOrderWithSummary) {
  ResultsFile f("unused.json", {"a", "b", "c"}, {{"job_file", "/x/jobs.toml"}});
  f.set_job("c", {{"name", "c"}, {"status", "failed"}});
  f.set_job("a", {{"name", "a"}, {"status", "ok"}});
  json doc = f.document(1.5, false, "");
  EXPECT_EQ(doc["format"], "pyhost-batch-results");
  EXPECT_EQ(doc["job_file"], "/x/jobs.toml");
  EXPECT_EQ(doc["complete"], false);
  EXPECT_TRUE(doc["interrupted"].is_null());
  EXPECT_EQ(doc["jobs"].size(), 2u);
  EXPECT_EQ(doc["jobs"][0]["name"], "a");
  EXPECT_EQ(doc["jobs"][1]["name"], "c");
  EXPECT_EQ(doc["summary"]["total"], 3);
  EXPECT_EQ(doc["summary"]["ok"], 1);
  EXPECT_EQ(doc["summary"]["failed"], 1);
  EXPECT_EQ(doc["summary"]["pending"], 1);
  EXPECT_EQ(f.document(2, false, "SIGINT")["interrupted"], "SIGINT");
}

TEST(BatchResults, WriteIsAtomicAndLoadsForResume) {
  ScratchDir dir;
  auto path = dir.path() / "r.json";
  ResultsFile f(path, {"a", "b"}, json::object());
  f.set_job("a", {{"name", "a"}, {"status", "ok"}, {"stdout", std::string("bad \xff utf8")}});
  f.write(0.5, false, "");
  f.set_job("b", {{"name", "b"}, {"status", "timeout"}});
  f.write(1.0, true, "");
  // No temporary files left behind.
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u);
  auto jobs = load_results_jobs(path);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs["a"]["status"], "ok");
  EXPECT_THAT(jobs["a"]["stdout"].get<std::string>(), HasSubstr("bad "));
  EXPECT_EQ(jobs["b"]["status"], "timeout");
}

TEST(BatchResults, LoadRejectsWhatIsNotAResultsFile) {
  ScratchDir dir;
  EXPECT_THROW(load_results_jobs(dir.path() / "missing.json"), std::runtime_error);
  EXPECT_THROW(load_results_jobs(dir.write("x.json", "{not json")), std::runtime_error);
  EXPECT_THROW(load_results_jobs(dir.write("y.json", "{\"jobs\": 3}")), std::runtime_error);
  EXPECT_THROW(load_results_jobs(dir.write("z.json", "{\"jobs\": [{\"name\": 1}]}")),
               std::runtime_error);
  EXPECT_TRUE(load_results_jobs(dir.write("e.json", "{\"jobs\": []}")).empty());
}

TEST(BatchResults, AtomicWriteReplacesAndFailsCleanly) {
  ScratchDir dir;
  auto path = dir.path() / "f.txt";
  write_file_atomically(path, "one");
  write_file_atomically(path, "two");
  EXPECT_EQ(read_file(path), "two");
  EXPECT_THROW(write_file_atomically(dir.path() / "no/such/dir/f", "x"), std::system_error);
}

TEST(BatchResults, ReadTail) {
  ScratchDir dir;
  auto path = dir.write("out", "0123456789");
  FileTail whole = read_tail(path, 64);
  EXPECT_EQ(whole.text, "0123456789");
  EXPECT_FALSE(whole.truncated());
  FileTail tail = read_tail(path, 4);
  EXPECT_EQ(tail.text, "6789");
  EXPECT_EQ(tail.bytes, 10u);
  EXPECT_TRUE(tail.truncated());
  EXPECT_EQ(read_tail(dir.path() / "missing", 4).bytes, 0u);
}

TEST(BatchOutcome, Classification) {
  ExitStatus ok{0, 0, 0.1};
  ExitStatus three{3, 0, 0.1};
  ExitStatus segv{std::nullopt, SIGSEGV, 0.1};
  EXPECT_EQ(classify_attempt(ok, false, {}, nullptr).status, Status::Ok);
  Outcome failed = classify_attempt(three, false, {}, nullptr);
  EXPECT_EQ(failed.status, Status::Failed);
  EXPECT_EQ(failed.reason, "exit code 3");
  Outcome crashed = classify_attempt(segv, false, {}, nullptr);
  EXPECT_EQ(crashed.status, Status::Crashed);
  EXPECT_EQ(crashed.reason, "killed by SIGSEGV");
  Outcome timeout = classify_attempt(segv, true, 1.5, nullptr);
  EXPECT_EQ(timeout.status, Status::Timeout);
  EXPECT_EQ(timeout.reason, "timed out after 1.5 s");
}

TEST(BatchOutcome, MultiTaskRunReportsTheWorstTask) {
  ExitStatus one{1, 0, 0};
  json run = {{"tasks", {{{"id", 0}, {"status", "ok"}}, {{"id", 1}, {"status", "crashed"}}}}};
  Outcome o = classify_attempt(one, false, {}, run);
  EXPECT_EQ(o.status, Status::Crashed);
  EXPECT_EQ(o.reason, "task 1 crashed (exit code 1)");
  run["tasks"].push_back({{"id", 2}, {"status", "timeout"}});
  EXPECT_EQ(classify_attempt(one, false, {}, run).status, Status::Timeout);
}

TEST(BatchCommand, RunArguments) {
  JobSpec j;
  j.name = "train";
  j.kind = TaskTarget::Kind::Script;
  j.target = "/abs/train.py";
  j.args = {"--lr", "0.1", "two words"};
  EXPECT_THAT(run_arguments(j, "/r/train.attempt1.json"),
              ElementsAre("run", "--mode", "serial", "--json", "/r/train.attempt1.json", "--",
                          "/abs/train.py", "--lr", "0.1", "two words"));
  j.mode = "processes";
  j.workers = 2;
  j.tasks = 4;
  j.kind = TaskTarget::Kind::Module;
  j.target = "pkg.mod";
  j.args = {};
  EXPECT_THAT(run_arguments(j, "f.json"),
              ElementsAre("run", "--mode", "processes", "--workers", "2", "--tasks", "4", "--json",
                          "f.json", "-m", "pkg.mod"));
  j.kind = TaskTarget::Kind::Code;
  j.target = "print(1)";
  EXPECT_THAT(run_arguments(j, "f.json"), ::testing::Contains("-c"));
}

TEST(BatchCommand, AttemptCommandAndFiles) {
  JobSpec j;
  j.name = "a";
  j.target = "/abs/a.py";
  j.cwd = "/work";
  j.env = {{"SEED", "1"}};
  AttemptCommand c = make_attempt_command(j, 2, "/bin/pyhost", "/results");
  EXPECT_EQ(c.launch.exe, "/bin/pyhost");
  EXPECT_EQ(c.launch.cwd, "/work");
  EXPECT_EQ(c.launch.stdout_path, "/results/a.attempt2.stdout");
  EXPECT_EQ(c.launch.stderr_path, "/results/a.attempt2.stderr");
  EXPECT_EQ(c.run_json, "/results/a.attempt2.json");
  EXPECT_EQ(c.launch.env.at("SEED"), "1");
  EXPECT_EQ(c.launch.env.at("PYHOST_BATCH_JOB"), "a");
  EXPECT_EQ(c.launch.env.at("PYHOST_BATCH_ATTEMPT"), "2");
  EXPECT_EQ(display_command("/bin/pyhost", {"run", "two words", "it's"}),
            "/bin/pyhost run 'two words' 'it'\\''s'");
}

TEST(BatchCommand, FingerprintFollowsWhatRuns) {
  JobSpec j;
  j.name = "a";
  j.target = "/abs/a.py";
  j.args = {"x"};
  const std::string base = fingerprint(j);
  EXPECT_EQ(fingerprint(j), base);
  JobSpec renamed_retries = j;
  renamed_retries.retries = 3;
  renamed_retries.timeout_s = 5;
  EXPECT_EQ(fingerprint(renamed_retries), base) << "retries/timeout do not change the result";
  JobSpec other_args = j;
  other_args.args = {"y"};
  EXPECT_NE(fingerprint(other_args), base);
  JobSpec split_args = j;
  split_args.args = {"", "x"};
  EXPECT_NE(fingerprint(split_args), base);
  JobSpec env = j;
  env.env["K"] = "V";
  EXPECT_NE(fingerprint(env), base);
}

}  // namespace
}  // namespace pyhost::batch
