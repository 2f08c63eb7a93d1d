#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "report/journal.hpp"
#include "util/files.hpp"

namespace pyhost {
namespace {

struct JournalTest : ::testing::Test {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("pyhost-journal-" + std::to_string(::getpid()) + "-" +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::string path = (dir / "run.journal").string();
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }

  static TaskResult task(int id, TaskStatus status) {
    TaskResult result;
    result.id = id;
    result.worker = 0;
    result.status = status;
    result.exit_code = status == TaskStatus::Ok ? 0 : 1;
    result.stdout_text = "line of task " + std::to_string(id) + "\n";
    return result;
  }
  void append_raw(const std::string& bytes) {
    std::ofstream(path, std::ios::app | std::ios::binary) << bytes;
  }
};

TEST_F(JournalTest, MissingFileIsEmpty) {
  EXPECT_TRUE(read_journal(path).empty());
}

TEST_F(JournalTest, RecordsEveryTaskWithItsFields) {
  {
    JournalWriter writer(path);
    writer.append(task(0, TaskStatus::Ok));
    TaskResult remote = task(3, TaskStatus::Crashed);
    remote.rank = 2;
    remote.host = "node-b";
    writer.append(remote);
  }
  auto tasks = read_journal(path);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks.at(0).status, TaskStatus::Ok);
  EXPECT_EQ(tasks.at(0).stdout_text, "line of task 0\n");
  EXPECT_EQ(tasks.at(3).status, TaskStatus::Crashed);
  EXPECT_EQ(tasks.at(3).rank, 2);
  EXPECT_EQ(tasks.at(3).host, "node-b");
  // One line per task.
  const std::string text = read_file(path);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

TEST_F(JournalTest, TornLastLineIsIgnored) {
  JournalWriter(path).append(task(0, TaskStatus::Ok));
  append_raw(R"({"id": 1, "status": "ok", "wor)");  // the crash cut it here
  auto tasks = read_journal(path);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_TRUE(tasks.count(0));
}

TEST_F(JournalTest, AppendingAfterATornLineStartsANewLine) {
  JournalWriter(path).append(task(0, TaskStatus::Ok));
  append_raw(R"({"id": 1, "status": "o)");
  JournalWriter(path).append(task(2, TaskStatus::Ok));  // the resumed run
  auto tasks = read_journal(path);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_TRUE(tasks.count(0));
  EXPECT_TRUE(tasks.count(2));
}

TEST_F(JournalTest, LaterRecordOfATaskWins) {
  JournalWriter writer(path);
  writer.append(task(4, TaskStatus::Failed));
  writer.append(task(4, TaskStatus::Ok));
  EXPECT_EQ(read_journal(path).at(4).status, TaskStatus::Ok);
}

}  // namespace
}  // namespace pyhost
