#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include "pyhost/results.hpp"

namespace pyhost {
namespace {

TEST(Results, TaskJsonHasTheDocumentedFields) {
  TaskResult task;
  task.id = 2;
  task.worker = 1;
  task.status = TaskStatus::Timeout;
  task.exit_code = -1;
  task.start_s = 0.5;
  task.end_s = 2.0;
  task.cpu_s = 1.25;
  task.stdout_text = "out";
  task.error = "timed out after 1.5 s";
  nlohmann::json doc = to_json(task);
  EXPECT_EQ(doc["id"], 2);
  EXPECT_EQ(doc["worker"], 1);
  EXPECT_EQ(doc["status"], "timeout");
  EXPECT_DOUBLE_EQ(doc["wall_s"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(doc["cpu_s"].get<double>(), 1.25);
  EXPECT_EQ(doc["stdout"], "out");
  EXPECT_EQ(doc["stderr"], "");
  EXPECT_EQ(doc["error"], "timed out after 1.5 s");
  EXPECT_FALSE(doc.contains("stdout_truncated"));
}

TEST(Results, AnMpiRunRecordsRanksAndEachTasksRankAndHost) {
  RunResult run;
  run.mode = "threads";
  run.ranks = 3;
  TaskResult task;
  task.status = TaskStatus::Ok;
  task.exit_code = 0;
  run.tasks.push_back(task);  // rank -1: no rank/host fields
  task.id = 1;
  task.rank = 2;
  task.host = "node-c";
  run.tasks.push_back(task);
  const nlohmann::json doc = run.to_json();
  EXPECT_EQ(doc["ranks"], 3);
  EXPECT_FALSE(doc["tasks"][0].contains("rank"));
  EXPECT_EQ(doc["tasks"][1]["rank"], 2);
  EXPECT_EQ(doc["tasks"][1]["host"], "node-c");
  const RunResult back = RunResult::from_json(doc);
  EXPECT_EQ(back.ranks, 3);
  EXPECT_EQ(back.tasks[0].rank, -1);
  EXPECT_EQ(back.tasks[1].rank, 2);
  EXPECT_EQ(back.tasks[1].host, "node-c");
  EXPECT_FALSE(RunResult{}.to_json().contains("ranks"));
}

TEST(Results, StatusNames) {
  EXPECT_EQ(to_string(TaskStatus::Ok), "ok");
  EXPECT_EQ(to_string(TaskStatus::Failed), "failed");
  EXPECT_EQ(to_string(TaskStatus::Crashed), "crashed");
  EXPECT_EQ(to_string(TaskStatus::Timeout), "timeout");
}

TEST(Results, AllOkOnlyWhenEveryTaskIsOk) {
  RunResult run;
  run.tasks.resize(2);
  run.tasks[0].status = TaskStatus::Ok;
  run.tasks[1].status = TaskStatus::Ok;
  EXPECT_TRUE(run.all_ok());
  run.tasks[1].status = TaskStatus::Crashed;
  EXPECT_FALSE(run.all_ok());
}

TEST(Results, TheTallyCountsTasksWhoseRecordsWereNotKept) {
  RunResult run;
  TaskResult ok, crashed;
  ok.status = TaskStatus::Ok;
  ok.cpu_s = 0.25;
  ok.peak_rss_kb = 900;
  crashed.status = TaskStatus::Crashed;
  crashed.cpu_s = 0.5;
  run.tally.add(ok);
  run.tally.add(ok);
  run.tally.add(crashed);
  run.tasks = {crashed};  // kept: the one not ok
  EXPECT_EQ(run.task_count(), 3);
  EXPECT_EQ(run.tally.ok, 2);
  EXPECT_EQ(run.tally.not_ok(), 1);
  EXPECT_DOUBLE_EQ(run.tally.cpu_s, 1.0);
  EXPECT_EQ(run.tally.peak_rss_kb, 900);
  EXPECT_FALSE(run.all_ok());
  run.tally.remove(crashed);  // e.g. replaced by a resumed journal's ok record
  run.tally.add(ok);
  run.tasks.clear();
  EXPECT_TRUE(run.all_ok());
  EXPECT_EQ(run.tally.tasks, 3);
  EXPECT_DOUBLE_EQ(run.tally.cpu_s, 0.75);
}

TEST(Results, JsonFileIsWrittenWholeAndInvalidUtf8Survives) {
  RunResult run;
  run.mode = "threads";
  run.tasks.resize(1);
  run.tasks[0].stdout_text = "bad byte \xff here";
  auto path = std::filesystem::temp_directory_path() / "pyhost_results_test.json";
  write_json_atomically(path.string(), run.to_json());
  std::ifstream in(path);
  nlohmann::json doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc["mode"], "threads");
  EXPECT_NE(doc["tasks"][0]["stdout"].get<std::string>().find("here"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  std::filesystem::remove(path);
}

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Results, AResultWrittenARecordAtATimeIsItsWholeDocument) {
  RunResult run;
  run.mode = "threads";
  run.ranks = 2;
  run.worker_info = {{0, 0.01}};
  const auto path = std::filesystem::temp_directory_path() / "pyhost_results_stream_test.json";
  const auto whole = [&run] {
    return run.to_json().dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  };
  write_json_atomically(path.string(), run);  // no tasks: "tasks": []
  EXPECT_EQ(file_text(path), whole());
  run.tasks.resize(3);
  for (int k = 0; k < 3; ++k) run.tasks[static_cast<std::size_t>(k)].id = k;
  run.tasks[0].stdout_text = "two\nlines \"tasks\": null\n";
  run.tasks[1].stderr_text = "bad byte \xff here";
  run.tasks[1].stdout_text = std::string(100000, 'x');  // larger than a buffered write
  run.tasks[2].gil_held_s = 0.5;
  run.tasks[2].error = "why";
  GilRecord gil;
  gil.source = "gil";
  gil.workers.push_back({});
  run.gil = gil;
  write_json_atomically(path.string(), run);
  EXPECT_EQ(file_text(path), whole());
  EXPECT_EQ(RunResult::from_json(nlohmann::json::parse(file_text(path))).tasks.size(), 3u);
  std::filesystem::remove(path);
}

TEST(Results, UnwritablePathThrowsWithTheName) {
  RunResult run;
  try {
    write_json_atomically("/nonexistent-dir/x.json", run.to_json());
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent-dir/x.json"), std::string::npos);
  }
}

TEST(Results, FromJsonReadsWhatPyhostRunWrites) {
  const auto doc = nlohmann::json::parse(R"({
    "mode": "threads", "workers": 2, "python": "3.13.0", "wall_s": 0.68,
    "peak_rss_mb": 12.8, "worker_startup": [{"id": 1, "startup_s": 0.0003}, {"id": 0, "startup_s": 0.002}],
    "tasks": [
      {"id": 0, "worker": 0, "status": "ok", "exit_code": 0, "start_s": 0.011, "end_s": 0.679,
       "wall_s": 0.668, "cpu_s": 0.26, "runq_s": 0.23, "stdout": "x\n", "stderr": ""},
      {"id": 1, "worker": 1, "status": "failed", "exit_code": 3, "start_s": 0.011, "end_s": 0.5,
       "wall_s": 0.489, "cpu_s": 0.2, "stdout": "", "stderr": "Traceback...\nValueError\n"}
    ], "something_new": true})");
  const RunResult r = RunResult::from_json(doc);
  EXPECT_EQ(r.mode, "threads");
  EXPECT_EQ(r.workers, 2);
  EXPECT_DOUBLE_EQ(r.wall_s, 0.68);
  ASSERT_TRUE(r.peak_rss_kb);
  EXPECT_NEAR(*r.peak_rss_kb / 1024.0, 12.8, 0.001);
  ASSERT_EQ(r.worker_info.size(), 2u);
  EXPECT_EQ(r.worker_info[1].id, 0);
  EXPECT_DOUBLE_EQ(r.worker_info[1].startup_s, 0.002);
  EXPECT_DOUBLE_EQ(r.startup_s(), 0.002);
  ASSERT_EQ(r.tasks.size(), 2u);
  EXPECT_DOUBLE_EQ(r.tasks[0].runq_s, 0.23);
  EXPECT_DOUBLE_EQ(r.tasks[1].runq_s, 0);  // absent without schedstats
  EXPECT_EQ(r.tasks[1].exit_code, 3);
  EXPECT_NE(r.tasks[1].stderr_text.find("ValueError"), std::string::npos);
  EXPECT_EQ(r.tasks[0].stdout_text, "x\n");
  EXPECT_EQ(r.tasks[1].status, TaskStatus::Failed);
  EXPECT_FALSE(r.all_ok());
  EXPECT_EQ(r.tally.tasks, 2);  // counted from the records
  EXPECT_EQ(r.tally.ok, 1);
  EXPECT_EQ(r.tally.failed, 1);

  auto null_rss = doc;
  null_rss["peak_rss_mb"] = nullptr;
  EXPECT_FALSE(RunResult::from_json(null_rss).peak_rss_kb);
  EXPECT_THROW(RunResult::from_json(nlohmann::json::parse(R"({"mode": "serial"})")),
               std::runtime_error);
  EXPECT_THROW(RunResult::from_json(nlohmann::json::parse("[1, 2]")), std::runtime_error);
}

TEST(Results, JsonRoundTripKeepsEveryField) {
  RunResult run;
  run.mode = "processes";
  run.workers = 3;
  run.python = "3.13.0";
  run.wall_s = 1.5;
  run.peak_rss_kb = 20480;
  run.worker_info = {{0, 0.01}, {1, 0.02}};
  TaskResult task;
  task.id = 0;
  task.worker = 1;
  task.status = TaskStatus::Crashed;
  task.exit_code = 139;
  task.start_s = 0.1;
  task.end_s = 0.9;
  task.cpu_s = 0.7;
  task.runq_s = 0.05;
  task.peak_rss_kb = 10240;
  task.stdout_text = "partial";
  task.stderr_truncated = true;
  task.error = "worker killed by SIGSEGV";
  run.tasks = {task};
  const RunResult back = RunResult::from_json(nlohmann::json::parse(run.to_json().dump()));
  EXPECT_EQ(back.to_json(), run.to_json());
  EXPECT_EQ(back.tasks[0].status, TaskStatus::Crashed);
  EXPECT_TRUE(back.tasks[0].stderr_truncated);
  EXPECT_DOUBLE_EQ(back.startup_s(), 0.02);
}

TEST(Results, FromJsonRejectsAnUnknownStatusByName) {
  auto doc = nlohmann::json::parse(
      R"({"mode": "serial", "wall_s": 1, "tasks": [{"id": 0, "status": "exploded"}]})");
  try {
    RunResult::from_json(doc);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("exploded"), std::string::npos);
  }
}

// Writes every byte, and keeps the compiler from dropping the writes to a block nothing reads.
void make_resident(char* block, std::size_t size) {
  std::memset(block, 1, size);
  asm volatile("" : : "r"(block) : "memory");
}

// peak_rss_kb_self keeps /proc/self/status open between calls (results.cpp): each call must still
// read the peak as it is then, and a forked child, which inherits the descriptor, its own peak,
// not its parent's.
TEST(Results, PeakRssFollowsAllocationsAndAForkedChildReadsItsOwn) {
  constexpr std::size_t kBlock = 64u << 20;
  const long before = peak_rss_kb_self();
  ASSERT_GT(before, 0);
  auto block = std::make_unique<char[]>(kBlock);
  make_resident(block.get(), kBlock);
  const long after = peak_rss_kb_self();
  EXPECT_GT(after - before, 60 * 1024) << before << " -> " << after;

  block.reset();
  const long parent = peak_rss_kb_self();
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child's peak starts at the RSS it forked with (the parent's, less the 64 MB freed),
    // then it writes 256 MB of its own: it passes the parent's peak by some 190 MB. A read
    // through the parent's descriptor would show the parent's.
    auto mine = std::make_unique<char[]>(4 * kBlock);
    make_resident(mine.get(), 4 * kBlock);
    ::_exit(peak_rss_kb_self() > parent + 150 * 1024 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child read its parent's peak";
  EXPECT_LT(peak_rss_kb_self(), parent + 150 * 1024);  // and the parent still its own
}

}  // namespace
}  // namespace pyhost
