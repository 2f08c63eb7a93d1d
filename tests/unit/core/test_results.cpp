#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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

TEST(Results, JsonFileIsWrittenWholeAndInvalidUtf8Survives) {
  RunResult run;
  run.mode = "threads";
  run.tasks.resize(1);
  run.tasks[0].stdout_text = "bad byte \xff here";
  auto path = std::filesystem::temp_directory_path() / "pyhost_results_test.json";
  write_json_atomically(path.string(), to_json(run));
  std::ifstream in(path);
  nlohmann::json doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc["mode"], "threads");
  EXPECT_NE(doc["tasks"][0]["stdout"].get<std::string>().find("here"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  std::filesystem::remove(path);
}

TEST(Results, UnwritablePathThrowsWithTheName) {
  RunResult run;
  try {
    write_json_atomically("/nonexistent-dir/x.json", to_json(run));
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent-dir/x.json"), std::string::npos);
  }
}

}  // namespace
}  // namespace pyhost
