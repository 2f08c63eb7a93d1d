// The messages of `pyhost batch --engine mpi` and the commands of gang members.
#include "batch/rank_protocol.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pyhost::batch {
namespace {

using ::testing::ElementsAre;

TEST(RankProtocol, MessagesCarryRawBlobs) {
  const std::string binary("\xff\x00zz\n", 5);
  std::string bytes = encode_message({{"key", 7}}, {"out\n", "", binary});
  std::vector<std::string> blobs;
  auto header = decode_message(bytes, &blobs);
  EXPECT_EQ(header.at("key"), 7);
  EXPECT_THAT(blobs, ElementsAre("out\n", "", binary));
  EXPECT_THROW(decode_message(bytes.substr(0, bytes.size() - 1), &blobs), std::runtime_error);
  EXPECT_THROW(decode_message("no header"), std::runtime_error);
}

AttemptCommand sample() {
  AttemptCommand c;
  c.launch.exe = "/bin/pyhost";
  c.launch.args = {"run", "--json", "/r/job.attempt2.json", "x.py"};
  c.launch.stdout_path = "/r/job.attempt2.stdout";
  c.launch.stderr_path = "/r/job.attempt2.stderr";
  c.launch.env = {{"A", "1"}};
  c.run_json = "/r/job.attempt2.json";
  return c;
}

TEST(RankProtocol, MemberZeroKeepsTheAttemptsFilesOthersGetTheirOwn) {
  AttemptCommand first = member_command(sample(), 0, 2);
  EXPECT_EQ(first.launch.stdout_path, "/r/job.attempt2.stdout");
  EXPECT_EQ(first.launch.env.at("PYHOST_JOB_RANK"), "0");
  EXPECT_EQ(first.launch.env.at("PYHOST_JOB_RANKS"), "2");
  EXPECT_EQ(first.launch.env.at("A"), "1");
  AttemptCommand second = member_command(sample(), 1, 2);
  EXPECT_EQ(second.launch.stdout_path, "/r/job.attempt2.member1.stdout");
  EXPECT_EQ(second.launch.stderr_path, "/r/job.attempt2.member1.stderr");
  EXPECT_EQ(second.run_json, "/r/job.attempt2.member1.json");
  EXPECT_THAT(second.launch.args,
              ElementsAre("run", "--json", "/r/job.attempt2.member1.json", "x.py"));
  EXPECT_EQ(second.launch.env.at("PYHOST_JOB_RANK"), "1");
}

TEST(RankProtocol, RelocatedCommandsWriteIntoTheRanksScratchDirectory) {
  AttemptCommand here = relocate_command(sample(), "/tmp/s", "3.member0");
  EXPECT_EQ(here.launch.stdout_path, "/tmp/s/3.member0.stdout");
  EXPECT_EQ(here.run_json, "/tmp/s/3.member0.json");
  EXPECT_THAT(here.launch.args, ElementsAre("run", "--json", "/tmp/s/3.member0.json", "x.py"));
}

}  // namespace
}  // namespace pyhost::batch
