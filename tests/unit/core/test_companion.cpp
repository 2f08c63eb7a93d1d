// find_freethreaded_companion: next to the running executable, or named by PYHOST_FT_BIN.
#include "util/companion.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "batch_test_util.hpp"

namespace pyhost {
namespace {

namespace fs = std::filesystem;
using batch::testing::ScratchDir;

fs::path make_file(const fs::path& path, bool executable) {
  std::ofstream(path) << "#!/bin/sh\nexit 0\n";
  ::chmod(path.c_str(), executable ? 0755 : 0644);
  return path;
}

TEST(FreethreadedCompanion, FoundNextToTheRunningExecutable) {
  ScratchDir dir;
  const fs::path self = make_file(dir.path() / "pyhost", true);
  EXPECT_FALSE(find_freethreaded_companion(self, nullptr));
  const fs::path companion = make_file(dir.path() / kFreethreadedCompanionName, true);
  auto found = find_freethreaded_companion(self, nullptr);
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, companion);
}

TEST(FreethreadedCompanion, NotExecutableOrADirectoryIsNone) {
  ScratchDir dir;
  const fs::path self = make_file(dir.path() / "pyhost", true);
  make_file(dir.path() / kFreethreadedCompanionName, false);
  EXPECT_FALSE(find_freethreaded_companion(self, nullptr));
  fs::remove(dir.path() / kFreethreadedCompanionName);
  fs::create_directory(dir.path() / kFreethreadedCompanionName);
  EXPECT_FALSE(find_freethreaded_companion(self, nullptr));
}

TEST(FreethreadedCompanion, EnvironmentOverrides) {
  ScratchDir dir;
  const fs::path self = make_file(dir.path() / "pyhost", true);
  make_file(dir.path() / kFreethreadedCompanionName, true);
  const fs::path other = make_file(dir.path() / "elsewhere-ft", true);
  auto found = find_freethreaded_companion(self, other.c_str());
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, other);
  // Set but empty: no companion, even with one next to the executable.
  EXPECT_FALSE(find_freethreaded_companion(self, ""));
  // Named but missing: none (not a fallback to the one next to the executable).
  EXPECT_FALSE(find_freethreaded_companion(self, (dir.path() / "missing").c_str()));
}

TEST(FreethreadedCompanion, DescribeReportsAProblemWhenItCannotRun) {
  ScratchDir dir;
  const fs::path failing = dir.path() / "failing-ft";
  std::ofstream(failing) << "#!/bin/sh\nexit 3\n";
  ::chmod(failing.c_str(), 0755);
  CompanionInfo info = describe_freethreaded_companion(failing);
  EXPECT_TRUE(info.python.empty());
  EXPECT_NE(info.problem.find("status 3"), std::string::npos) << info.problem;

  const fs::path answering = dir.path() / "answering-ft";
  std::ofstream(answering) << "#!/bin/sh\n"
                              "[ \"$1 $2\" = \"info --json\" ] && [ -z \"$PYHOST_FT_BIN\" ] || exit 9\n"
                              "echo '{\"python\": \"3.13.15\", \"executable\": \"/x/python3.13t\", "
                              "\"free_threaded\": true}'\n";
  ::chmod(answering.c_str(), 0755);
  info = describe_freethreaded_companion(answering);
  EXPECT_EQ(info.problem, "");
  EXPECT_EQ(info.python, "3.13.15");
  EXPECT_EQ(info.executable, "/x/python3.13t");
  EXPECT_TRUE(info.free_threaded);
}

}  // namespace
}  // namespace pyhost
