#include <gtest/gtest.h>

#include "cli/run_words.hpp"

namespace pyhost::cli {
namespace {

using Words = std::vector<std::string>;

TEST(RunWords, OptionsStopAtTheScript) {
  RunWords split = split_run_words({"run", "--mode", "threads", "-j2", "s.py", "--mode", "x"});
  EXPECT_EQ(split.options, (Words{"run", "--mode", "threads", "-j2"}));
  EXPECT_EQ(split.target, (Words{"s.py", "--mode", "x"}));
}

TEST(RunWords, DashMAndDashCTakeTheRest) {
  EXPECT_EQ(split_run_words({"run", "-m", "pkg.mod", "-c", "x"}).target,
            (Words{"-m", "pkg.mod", "-c", "x"}));
  EXPECT_EQ(split_run_words({"run", "--tasks", "3", "-c", "print(1)", "a"}).target,
            (Words{"-c", "print(1)", "a"}));
}

TEST(RunWords, GlobalOptionsBeforeRun) {
  RunWords split = split_run_words({"--log-level", "debug", "run", "x.py"});
  EXPECT_EQ(split.options, (Words{"--log-level", "debug", "run"}));
  EXPECT_EQ(split.target, (Words{"x.py"}));
}

TEST(RunWords, DoubleDashEndsOptions) {
  EXPECT_EQ(split_run_words({"run", "--", "-weird-name.py", "a"}).target,
            (Words{"-weird-name.py", "a"}));
}

TEST(RunWords, OtherCommandsAreLeftWhole) {
  Words words{"info", "--json"};
  RunWords split = split_run_words(words);
  EXPECT_EQ(split.options, words);
  EXPECT_TRUE(split.target.empty());
}

}  // namespace
}  // namespace pyhost::cli
