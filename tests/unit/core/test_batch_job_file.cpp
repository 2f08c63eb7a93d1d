// Job file parsing and validation: every error names file:line.
#include "batch/job_file.hpp"

#include "batch_test_util.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pyhost::batch {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;

class JobFileTest : public ::testing::Test {
 protected:
  JobFileTest() {
    dir_.write("prep.py", "print('prep')\n");
    dir_.write("train.py", "print('train')\n");
    std::filesystem::create_directories(dir_.path() / "data");
  }
  JobFile parse(const std::string& text) { return parse_job_file(text, "jobs.toml", dir_.path()); }
  // The diagnostics of an invalid file (fails the test if it parses).
  std::vector<Diagnostic> errors(const std::string& text) {
    try {
      parse(text);
    } catch (const JobFileError& e) {
      return e.diagnostics();
    }
    ADD_FAILURE() << "expected a JobFileError for:\n" << text;
    return {};
  }
  std::string first_error(const std::string& text) {
    auto d = errors(text);
    return d.empty() ? std::string() : d.front().str();
  }
  ScratchDir dir_;
};

TEST_F(JobFileTest, ParsesTheIssueExample) {
  JobFile f = parse(R"toml(
[defaults]            # optional; any job key may be set here
timeout = 600
mode = "processes"

[[job]]
name = "prepare"
script = "prep.py"
args = ["--n", "3"]
env = { SEED = "1" }
cwd = "data"

[[job]]
name = "train"
script = "train.py"
needs = ["prepare"]
retries = 2
mode = "subinterpreters"
workers = 2
tasks = 4
tags = ["nightly"]
)toml");
  ASSERT_EQ(f.jobs.size(), 2u);
  const JobSpec& prep = f.jobs[0];
  EXPECT_EQ(prep.name, "prepare");
  EXPECT_EQ(prep.kind, TaskTarget::Kind::Script);
  EXPECT_EQ(prep.target, (dir_.path() / "prep.py").string());
  EXPECT_EQ(prep.args, (std::vector<std::string>{"--n", "3"}));
  EXPECT_EQ(prep.env.at("SEED"), "1");
  EXPECT_EQ(prep.cwd, dir_.path() / "data");
  EXPECT_EQ(prep.timeout_s, 600.0);
  EXPECT_EQ(prep.mode, "processes");
  EXPECT_EQ(prep.retries, 0);
  EXPECT_EQ(prep.line, 6);
  const JobSpec& train = f.jobs[1];
  EXPECT_EQ(train.needs, std::vector<std::string>{"prepare"});
  EXPECT_EQ(train.need_lines.at("prepare"), 16);
  EXPECT_EQ(train.retries, 2);
  EXPECT_EQ(train.mode, "subinterpreters");
  EXPECT_EQ(train.workers, 2);
  EXPECT_EQ(train.tasks, 4);
  EXPECT_EQ(train.tags, std::vector<std::string>{"nightly"});
  EXPECT_EQ(train.cwd, dir_.path()) << "cwd defaults to the job file's directory";
  EXPECT_EQ(f.find("train"), &f.jobs[1]);
  EXPECT_EQ(f.find("nope"), nullptr);
}

TEST_F(JobFileTest, DefaultsApplyAndJobsOverride) {
  JobFile f = parse(R"toml(
[defaults]
script = "prep.py"
env = { A = "1", B = "2" }
args = ["x"]
retries = 1
timeout = 2.5
[[job]]
name = "one"
[[job]]
name = "two"
code = "print(2)"
env = { B = "3" }
args = []
retries = 0
)toml");
  const JobSpec& one = f.jobs[0];
  EXPECT_EQ(one.kind, TaskTarget::Kind::Script);
  EXPECT_EQ(one.args, std::vector<std::string>{"x"});
  EXPECT_EQ(one.retries, 1);
  EXPECT_DOUBLE_EQ(*one.timeout_s, 2.5);
  const JobSpec& two = f.jobs[1];
  EXPECT_EQ(two.kind, TaskTarget::Kind::Code) << "a job's target replaces the defaults' one";
  EXPECT_EQ(two.target, "print(2)");
  EXPECT_TRUE(two.args.empty());
  EXPECT_EQ(two.retries, 0);
  EXPECT_EQ(two.env, (std::map<std::string, std::string>{{"A", "1"}, {"B", "3"}}))
      << "env merges, the job winning";
  EXPECT_FALSE(two.mode.has_value());
}

TEST_F(JobFileTest, ModuleTarget) {
  JobFile f = parse("[[job]]\nname = \"m\"\nmodule = \"json.tool\"\nneeds = []\n");
  EXPECT_EQ(f.jobs[0].kind, TaskTarget::Kind::Module);
  EXPECT_EQ(f.jobs[0].target, "json.tool");
}

TEST_F(JobFileTest, BadTomlNamesTheLine) {
  std::string e = first_error("[[job]]\nname = \"a\"\nscript = \"prep.py\n");
  EXPECT_THAT(e, HasSubstr("jobs.toml:3: error: invalid TOML"));
}

TEST_F(JobFileTest, UnknownKeyWithSuggestion) {
  std::string e = first_error("[[job]]\nname = \"a\"\nscirpt = \"prep.py\"\n");
  EXPECT_THAT(e, HasSubstr("jobs.toml:3: error: job 'a': unknown key 'scirpt'"));
  EXPECT_THAT(e, HasSubstr("did you mean 'script'?"));
}

TEST_F(JobFileTest, UnknownTopLevelKey) {
  std::string e = first_error("[[jobs]]\nname = \"a\"\nscript = \"prep.py\"\n");
  EXPECT_THAT(e, HasSubstr("jobs.toml:1: error: unknown top-level key 'jobs'"));
  EXPECT_THAT(e, HasSubstr("did you mean 'job'?"));
}

TEST_F(JobFileTest, WrongTypes) {
  auto d = errors(R"toml([[job]]
name = "a"
script = "prep.py"
retries = "2"
timeout = true
args = ["ok", 3]
env = { SEED = 1 }
needs = "b"
workers = 0
mode = "fast"
)toml");
  std::vector<std::string> all;
  for (const auto& x : d) all.push_back(x.str());
  EXPECT_THAT(
      all,
      ::testing::ElementsAre(
          HasSubstr("jobs.toml:4: error: job 'a': 'retries' must be an integer, not a string"),
          HasSubstr(
              "jobs.toml:5: error: job 'a': 'timeout' must be a number of seconds, not a boolean"),
          HasSubstr(
              "jobs.toml:6: error: job 'a': every item of 'args' must be a string, not an integer"),
          HasSubstr("jobs.toml:7: error: job 'a': env value 'SEED' must be a string"),
          HasSubstr(
              "jobs.toml:8: error: job 'a': 'needs' must be an array of strings, not a string"),
          HasSubstr("jobs.toml:9: error: job 'a': 'workers' must be between 1 and"),
          HasSubstr("jobs.toml:10: error: job 'a': 'mode' must be one of serial, threads")));
}

TEST_F(JobFileTest, TimeoutRange) {
  EXPECT_THAT(first_error("[[job]]\nname = \"a\"\nscript = \"prep.py\"\ntimeout = 0\n"),
              HasSubstr("jobs.toml:4: error: job 'a': 'timeout' must be a positive number"));
  EXPECT_THAT(first_error("[[job]]\nname = \"a\"\nscript = \"prep.py\"\ntimeout = nan\n"),
              HasSubstr("jobs.toml:4:"));
  EXPECT_THAT(first_error("[[job]]\nname = \"a\"\nscript = \"prep.py\"\ntimeout = 1e300\n"),
              HasSubstr("at most"));
}

TEST_F(JobFileTest, DuplicateNames) {
  std::string e = first_error(
      "[[job]]\nname = \"a\"\nscript = \"prep.py\"\n\n[[job]]\nname = \"a\"\nscript = "
      "\"prep.py\"\n");
  EXPECT_THAT(e, HasSubstr("jobs.toml:6: error: duplicate job name 'a' (first defined at line 2)"));
}

TEST_F(JobFileTest, MissingScriptAndCwd) {
  auto d = errors("[[job]]\nname = \"a\"\nscript = \"nope.py\"\ncwd = \"nowhere\"\n");
  ASSERT_EQ(d.size(), 2u);
  EXPECT_THAT(d[0].str(), HasSubstr("jobs.toml:3: error: job 'a': script 'nope.py' not found"));
  EXPECT_THAT(d[1].str(),
              HasSubstr("jobs.toml:4: error: job 'a': cwd 'nowhere' is not a directory"));
}

TEST_F(JobFileTest, TargetRules) {
  EXPECT_THAT(first_error("[[job]]\nname = \"a\"\n"),
              HasSubstr("jobs.toml:1: error: job 'a': set one of 'script', 'module' or 'code'"));
  EXPECT_THAT(first_error("[[job]]\nname = \"a\"\nscript = \"prep.py\"\ncode = \"pass\"\n"),
              HasSubstr("jobs.toml:1: error: job 'a': set only one of"));
}

TEST_F(JobFileTest, NameRules) {
  EXPECT_THAT(first_error("[[job]]\nscript = \"prep.py\"\n"),
              HasSubstr("jobs.toml:1: error: job #1 has no 'name'"));
  EXPECT_THAT(first_error("[[job]]\nname = \"a/b\"\nscript = \"prep.py\"\n"),
              HasSubstr("jobs.toml:2: error: job #1: invalid name 'a/b'"));
  EXPECT_THAT(
      first_error("[defaults]\nname = \"x\"\n[[job]]\nname = \"a\"\nscript = \"prep.py\"\n"),
      HasSubstr("jobs.toml:2: error: [defaults]: 'name' cannot be set in [defaults]"));
  EXPECT_THAT(
      first_error("[defaults]\nneeds = [\"x\"]\n[[job]]\nname = \"a\"\nscript = \"prep.py\"\n"),
      HasSubstr("jobs.toml:2: error: [defaults]: 'needs' cannot be set"));
}

TEST_F(JobFileTest, NoJobs) {
  EXPECT_THAT(first_error("[defaults]\nretries = 1\n"), HasSubstr("jobs.toml: error: no jobs"));
  EXPECT_THAT(first_error("job = 3\n"),
              HasSubstr("jobs.toml:1: error: 'job' must be an array of tables"));
}

TEST_F(JobFileTest, AllErrorsAreReported) {
  auto d =
      errors("[[job]]\nname = \"a\"\nscript = \"nope.py\"\n[[job]]\nname = \"b\"\nbogus = 1\n");
  EXPECT_EQ(d.size(), 2u);  // a: missing script; b: unknown key (not also its missing target)
}

TEST_F(JobFileTest, LoadJobFileChecksTheGraphAndUsesTheFileDirectory) {
  auto path = dir_.write("sub/jobs.toml", "[[job]]\nname = \"a\"\nscript = \"../prep.py\"\n");
  JobFile f = load_job_file(path);
  EXPECT_EQ(f.jobs[0].target, (dir_.path() / "prep.py").string());
  EXPECT_EQ(f.dir, dir_.path() / "sub");

  auto bad =
      dir_.write("cyc.toml", "[[job]]\nname = \"a\"\nscript = \"prep.py\"\nneeds = [\"a\"]\n");
  try {
    load_job_file(bad);
    FAIL() << "self-need accepted";
  } catch (const JobFileError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cyc.toml:4: error: job 'a' needs itself"));
  }
  EXPECT_THROW(load_job_file(dir_.path() / "missing.toml"), JobFileError);
}

// `ranks` and `host` (--engine mpi): read with their lines, then checked against the ranks.
TEST_F(JobFileTest, RanksAndHostAreCheckedAgainstTheRanks) {
  const std::string text = R"toml([defaults]
host = "n1"

[[job]]
name = "pair"
script = "prep.py"
ranks = 2

[[job]]
name = "elsewhere"
script = "prep.py"
host = "n9"
)toml";
  JobFile f = parse(text);
  EXPECT_EQ(f.jobs[0].ranks, 2);
  EXPECT_EQ(f.jobs[0].host, "n1") << "from [defaults]";
  EXPECT_EQ(f.jobs[1].ranks, 1);
  auto problems = [&](const std::vector<std::string>* hosts) {
    std::vector<std::string> out;
    try {
      check_placement(f, hosts);
    } catch (const JobFileError& e) {
      for (const auto& d : e.diagnostics()) out.push_back(d.str());
    }
    return out;
  };
  const std::vector<std::string> fits = {"n1", "n1", "n9"};
  EXPECT_TRUE(problems(&fits).empty());
  const std::vector<std::string> small = {"n1", "n2"};
  EXPECT_EQ(problems(&small),
            (std::vector<std::string>{
                "jobs.toml:7: error: job 'pair': 'ranks = 2' but host 'n1' has 1 rank",
                "jobs.toml:12: error: job 'elsewhere': no rank runs on host 'n9' (the ranks' "
                "hosts: n1, n2)"}));
  EXPECT_THAT(problems(nullptr).at(0),
              HasSubstr("jobs.toml:2: error: job 'pair': 'host' needs --engine mpi"));
  EXPECT_THAT(first_error("[[job]]\nname = \"a\"\nscript = \"prep.py\"\nranks = 0\n"),
              HasSubstr("jobs.toml:4: error: job 'a': 'ranks' must be between 1 and 4096"));
}

}  // namespace
}  // namespace pyhost::batch
