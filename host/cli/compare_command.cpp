// `pyhost compare`: one script measured in several modes and worker counts. Every measured run
// is a child `pyhost run --json` (this very binary), so each configuration starts from a fresh
// process, exactly as a user's `pyhost run` would; the statistics live in host/report/.
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <boost/process.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/command.hpp"
#include "pyhost/compare.hpp"
#include "pyhost/results.hpp"

namespace pyhost::cli {
namespace {

namespace bp = boost::process;
namespace fs = std::filesystem;
using namespace pyhost::compare;

struct CompareArgs {
  std::string script;
  std::vector<std::string> script_args;
  std::string modes = "serial,threads,subinterpreters,processes";
  std::string workers;  // empty: 1, 2, 4, ... up to the number of cores
  int tasks = 0;        // 0: the largest worker count
  int repeat = 5;
  int warmup = 1;
  std::string json_path, csv_path, markdown_path, html_path;
  std::string color = "auto";
};

constexpr const char* kModes[] = {"serial", "threads", "subinterpreters", "processes"};

int usage_error(const std::string& message) {
  fmt::print(stderr, "pyhost compare: error: {}\n", message);
  return kExitUsage;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

int cores() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::vector<int> default_workers() {
  std::vector<int> counts;
  for (int w = 1; w < cores(); w *= 2) counts.push_back(w);
  counts.push_back(cores());
  return counts;
}

std::string read_file(const fs::path& path, std::size_t keep_last = 0) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (keep_last && text.size() > keep_last) text = "..." + text.substr(text.size() - keep_last);
  return text;
}

std::string trim_end(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

void write_text_atomically(const std::string& path, const std::string& text) {
  fs::path target(path), temp(path);
  temp += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + temp.string());
  }
  std::error_code ec;
  fs::rename(temp, target, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw std::runtime_error("cannot write " + path + ": " + ec.message());
  }
}

// A private directory for the children's JSON and stderr files, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "pyhost-compare-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary directory");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

fs::path self_exe() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("/proc/self/exe") : exe;
}

// Why a child run failed, from its JSON when it wrote one, else from its own stderr.
std::string failure_message(int exit_code, const std::optional<RunSample>& sample,
                            const fs::path& stderr_path) {
  std::string message;
  if (sample) {
    for (const auto& task : sample->tasks) {
      if (task.status == "ok") continue;
      message += fmt::format("\n  task {} {} (exit code {}){}", task.id, task.status,
                             task.exit_code, task.error.empty() ? "" : ": " + trim_end(task.error));
      std::string err = trim_end(task.stderr_text);
      if (err.size() > 4000) err = "..." + err.substr(err.size() - 4000);
      if (!err.empty()) {
        std::string indented;
        std::stringstream lines(err);
        for (std::string line; std::getline(lines, line);) indented += "\n    " + line;
        message += indented;
      }
    }
  }
  if (message.empty()) {
    message = fmt::format("pyhost run exited with status {}", exit_code);
    const std::string err = trim_end(read_file(stderr_path, 4000));
    if (!err.empty()) message += ":\n" + err;
  }
  return message;
}

RunOutcome run_child(const fs::path& exe, const CompareArgs& args, const Config& config,
                     const fs::path& dir, int serial) {
  const fs::path json_path = dir / fmt::format("run-{}.json", serial);
  const fs::path err_path = dir / fmt::format("run-{}.stderr", serial);
  // clang-format off
  std::vector<std::string> argv = {"run", "--mode", config.mode,
                                   "-j", std::to_string(config.workers),
                                   "--tasks", std::to_string(config.tasks),
                                   "--json", json_path.string(), "--", args.script};
  // clang-format on
  argv.insert(argv.end(), args.script_args.begin(), args.script_args.end());

  RunOutcome outcome;
  int exit_code = 0;
  try {
    // clang-format off
    bp::child child(exe.string(), bp::args(argv), bp::std_in < bp::null, bp::std_out > bp::null,
                    bp::std_err > err_path.string());
    // clang-format on
    child.wait();
    const int status = child.native_exit_code();
    if (WIFSIGNALED(status)) {
      outcome.kind = RunOutcome::Kind::Failed;
      const char* name = ::sigabbrev_np(WTERMSIG(status));
      outcome.message = fmt::format(
          "pyhost run was killed by {}",
          name ? fmt::format("SIG{}", name) : fmt::format("signal {}", WTERMSIG(status)));
      const std::string err = trim_end(read_file(err_path, 4000));
      if (!err.empty()) outcome.message += ":\n" + err;
      std::error_code ignored;
      fs::remove(json_path, ignored);
      return outcome;
    }
    exit_code = child.exit_code();
  } catch (const std::exception& error) {
    outcome.kind = RunOutcome::Kind::Failed;
    outcome.message = fmt::format("cannot start {}: {}", exe.string(), error.what());
    return outcome;
  }

  std::optional<RunSample> sample;
  std::string parse_error;
  if (fs::exists(json_path)) {
    try {
      std::ifstream in(json_path);
      sample = parse_run_json(nlohmann::json::parse(in));
    } catch (const std::exception& error) {
      parse_error = error.what();
    }
  }
  std::error_code ec;
  fs::remove(json_path, ec);

  if (exit_code == kExitUsage && !sample) {
    const std::string err = trim_end(read_file(err_path));
    if (err.find("not available") != std::string::npos) {
      outcome.kind = RunOutcome::Kind::Unavailable;
      const auto colon = err.find("error: ");
      outcome.message = colon == std::string::npos ? err : err.substr(colon + 7);
      fs::remove(err_path, ec);
      return outcome;
    }
  }
  if (exit_code != 0 || !sample || !sample->all_ok()) {
    outcome.kind = RunOutcome::Kind::Failed;
    outcome.message = failure_message(exit_code, sample, err_path);
    if (!parse_error.empty()) outcome.message += "\n  (" + parse_error + ")";
    if (sample) outcome.sample = std::move(*sample);
    return outcome;
  }
  fs::remove(err_path, ec);
  outcome.sample = std::move(*sample);
  return outcome;
}

int compare(const CompareArgs& args) {
  std::error_code ec;
  if (!fs::is_regular_file(args.script, ec))
    return usage_error(fmt::format(
        "can't open file '{}': {}", args.script,
        fs::exists(args.script, ec) ? "not a regular file" : "No such file or directory"));
  std::vector<std::string> modes = split_list(args.modes);
  if (modes.empty()) return usage_error("--modes needs at least one mode");
  for (const auto& mode : modes)
    if (std::find(std::begin(kModes), std::end(kModes), mode) == std::end(kModes))
      return usage_error(
          fmt::format("unknown mode '{}' (serial, threads, subinterpreters, processes)", mode));

  std::vector<int> workers;
  if (args.workers.empty()) {
    workers = default_workers();
  } else {
    for (const auto& item : split_list(args.workers)) {
      int value = 0;
      try {
        std::size_t used = 0;
        value = std::stoi(item, &used);
        if (used != item.size()) value = 0;
      } catch (const std::exception&) {
        value = 0;
      }
      if (value < 1)
        return usage_error(fmt::format("--workers: '{}' is not a worker count >= 1", item));
      workers.push_back(value);
    }
    if (workers.empty()) return usage_error("--workers needs at least one worker count");
  }
  if (args.repeat < 1) return usage_error("--repeat must be at least 1");
  if (args.warmup < 0) return usage_error("--warmup must be 0 or more");
  const int tasks = args.tasks > 0 ? args.tasks : *std::max_element(workers.begin(), workers.end());

  Comparison comparison;
  comparison.cores = cores();
  comparison.script = args.script;
  comparison.args = args.script_args;
  comparison.tasks = tasks;
  comparison.repeat = args.repeat;
  comparison.warmup = args.warmup;
  if (std::find(modes.begin(), modes.end(), "serial") == modes.end())
    comparison.warnings.push_back("serial was added: it is the baseline of every speedup");

  const std::vector<Config> configs = plan_configs(modes, workers, tasks);
  const fs::path exe = self_exe();
  const bool show_progress = ::isatty(STDERR_FILENO);
  DriveResult driven;
  try {
    TempDir dir;
    int serial = 0;
    driven = drive(
        configs, args.repeat, args.warmup,
        [&](const Config& config) { return run_child(exe, args, config, dir.path(), serial++); },
        [&](const Config& config, const Step& step, std::size_t done, std::size_t total) {
          if (!show_progress) return;
          fmt::print(stderr, "\r\033[K[{}/{}] {} {} {}", done, total, config.label(),
                     step.warmup ? "warmup" : "run", step.repeat + 1);
        });
    if (show_progress) fmt::print(stderr, "\r\033[K");
  } catch (const std::exception& error) {
    fmt::print(stderr, "pyhost compare: {}\n", error.what());
    return kExitFailure;
  }
  if (!driven.ok) {
    fmt::print(stderr, "pyhost compare: {}\n", driven.message);
    return kExitFailure;
  }
  for (const auto& line : driven.skipped) {
    fmt::print(stderr, "pyhost compare: warning: {}\n", line);
    comparison.warnings.push_back(line);
  }
  for (const auto& [config, runs] : driven.runs) {
    if (comparison.python.empty() && !runs.empty()) comparison.python = runs.front().python;
    comparison.results.push_back(analyse(config, runs));
  }
  finish(comparison);

  TableOptions options;
  options.color = args.color == "always" ||
                  (args.color == "auto" && ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR"));
  fmt::print("{}", render_terminal(comparison, options));
  std::fflush(stdout);

  try {
    if (!args.json_path.empty()) write_json_atomically(args.json_path, to_json(comparison));
    if (!args.csv_path.empty()) write_text_atomically(args.csv_path, render_csv(comparison));
    if (!args.markdown_path.empty())
      write_text_atomically(args.markdown_path, render_markdown(comparison));
    if (!args.html_path.empty()) write_text_atomically(args.html_path, render_html(comparison));
  } catch (const std::exception& error) {
    fmt::print(stderr, "pyhost compare: {}\n", error.what());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

Command add_compare_command(CLI::App& parent) {
  auto args = std::make_shared<CompareArgs>();
  CLI::App* app = parent.add_subcommand(
      "compare",
      "Measure a script in several execution modes and worker counts: speedup, efficiency, GIL "
      "wait, and reports.\n"
      "Usage: pyhost compare [OPTIONS] SCRIPT [ARGS...] [OPTIONS]\n"
      "   or: pyhost compare [OPTIONS] SCRIPT -- ARGS...   (for ARGS that start with '-')");
  app->add_option("script", args->script, "the script to measure")->required();
  app->add_option("args", args->script_args, "arguments for the script")->allow_extra_args();
  app->add_option("--modes", args->modes,
                  "comma-separated modes (default serial,threads,subinterpreters,processes)");
  app->add_option("-j,--workers", args->workers,
                  "comma-separated worker counts (default 1,2,4,... up to the cores)");
  app->add_option("--tasks", args->tasks, "tasks per run (default: the largest worker count)")
      ->check(CLI::PositiveNumber);
  app->add_option("--repeat", args->repeat, "measured runs per configuration (default 5)");
  app->add_option("--warmup", args->warmup, "unmeasured runs per configuration first (default 1)");
  app->add_option("--json", args->json_path, "write the results as JSON");
  app->add_option("--csv", args->csv_path, "write the table as CSV");
  app->add_option("--markdown", args->markdown_path, "write the table as Markdown");
  app->add_option("--html", args->html_path, "write a self-contained HTML report with charts");
  app->add_option("--color", args->color, "auto | always | never (default auto: on a terminal)")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  return {app, [args] { return compare(*args); }};
}

}  // namespace pyhost::cli
