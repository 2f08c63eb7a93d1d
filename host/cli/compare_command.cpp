// `pyhost compare`: one script measured in several modes and worker counts. Every measured run
// is a child `pyhost run --json` (this very binary), so each configuration starts from a fresh
// process, exactly as a user's `pyhost run` would; the statistics live in host/report/.
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/command.hpp"
#include "cli/interpreter_options.hpp"
#include "pyhost/run.hpp"
#include "report/compare.hpp"
#include "util/child_process.hpp"
#include "util/files.hpp"
#include "util/process_info.hpp"
#include "util/unique_fd.hpp"

namespace pyhost::cli {
namespace {

namespace fs = std::filesystem;
using namespace pyhost::compare;

struct CompareArgs {
  std::string script;
  std::vector<std::string> script_args;
  std::string modes;    // empty: every mode of the table
  std::string workers;  // empty: 1, 2, 4, ... up to the number of cores
  int tasks = 0;        // 0: the largest worker count
  int repeat = 5;
  int warmup = 1;
  std::string json_path, csv_path, markdown_path, html_path;
  std::string color = "auto";
  std::string pythons;                    // --python: interpreters side by side (empty: this one)
  std::vector<std::string> interpreters;  // --interpreter PATH: builds to register
};

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

// The end of a child's stderr, for messages.
std::string stderr_tail(const fs::path& path) {
  FileTail tail = read_tail(path, 4000);
  return tail.truncated() ? "..." + tail.text : tail.text;
}

std::string trim_end(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Why a child run failed, from its JSON when it wrote one, else from its own stderr.
std::string failure_message(int exit_code, const std::optional<RunResult>& sample,
                            const fs::path& stderr_path) {
  std::string message;
  if (sample) {
    for (const auto& task : sample->tasks) {
      if (task.status == TaskStatus::Ok) continue;
      message += fmt::format("\n  task {} {} (exit code {}){}", task.id, to_string(task.status),
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
    const std::string err = trim_end(stderr_tail(stderr_path));
    if (!err.empty()) message += ":\n" + err;
  }
  return message;
}

RunOutcome run_child(const fs::path& exe, const CompareArgs& args, const Config& config,
                     const fs::path& dir, int serial) {
  const fs::path json_path = dir / fmt::format("run-{}.json", serial);
  const fs::path err_path = dir / fmt::format("run-{}.stderr", serial);
  RunPlan plan;
  // Threads on a free-threaded build run as its freethreaded mode: the same threads, and it says
  // when an extension module turned the GIL back on.
  plan.mode = config.free_threaded && config.mode == "threads" ? "freethreaded" : config.mode;
  plan.workers = config.workers;
  plan.tasks = config.tasks;
  plan.target = {TaskTarget::Kind::Script, args.script, args.script_args};
  const std::vector<std::string> argv = plan.to_argv(json_path.string());

  RunOutcome outcome;
  int exit_code = 0;
  try {
    UniqueFd err(::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (err.get() < 0)
      throw std::runtime_error("cannot create " + err_path.string() + ": " + std::strerror(errno));
    ChildSpec spec;
    spec.exe = config.pyhost.empty() ? exe : fs::path(config.pyhost);
    spec.args = argv;
    // Another build runs the tasks itself (a free-threaded one has no companion to ask).
    if (!config.pyhost.empty()) spec.set_env[kFreethreadedCompanionEnv] = "";
    spec.fds = {{0, -1}, {1, -1}, {2, err.get()}};
    const ExitStatus status = ChildProcess::start(spec).wait();
    if (status.signal) {
      outcome.kind = RunOutcome::Kind::Failed;
      outcome.message = "pyhost run was " + status.describe();
      const std::string err = trim_end(stderr_tail(err_path));
      if (!err.empty()) outcome.message += ":\n" + err;
      std::error_code ignored;
      fs::remove(json_path, ignored);
      return outcome;
    }
    exit_code = status.exit_code.value_or(1);
  } catch (const std::exception& error) {
    outcome.kind = RunOutcome::Kind::Failed;
    outcome.message = fmt::format(
        "cannot start {}: {}", config.pyhost.empty() ? exe.string() : config.pyhost, error.what());
    return outcome;
  }

  std::optional<RunResult> sample;
  std::string parse_error;
  if (fs::exists(json_path)) {
    try {
      sample = RunResult::from_json(nlohmann::json::parse(read_file(json_path)));
    } catch (const std::exception& error) {
      parse_error = error.what();
    }
  }
  std::error_code ec;
  fs::remove(json_path, ec);

  if (exit_code == kExitUnavailable && !sample) {
    const std::string err = trim_end(stderr_tail(err_path));
    outcome.kind = RunOutcome::Kind::Unavailable;
    const auto colon = err.find("error: ");
    outcome.message = colon == std::string::npos ? err : err.substr(colon + 7);
    fs::remove(err_path, ec);
    return outcome;
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
  std::vector<std::string> modes;
  if (args.modes.empty()) {
    // Every mode this build can run (freethreaded only where its companion was built).
    for (const auto& mode : all_modes())
      if (!mode_unavailable(mode)) modes.emplace_back(mode.name);
  } else {
    modes = split_list(args.modes);
    if (modes.empty()) return usage_error("--modes needs at least one mode");
  }
  for (const auto& mode : modes)
    if (!find_mode(mode))
      return usage_error(fmt::format("unknown mode '{}' ({})", mode, mode_names()));

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
  if (const std::string baseline(baseline_mode().name);
      std::find(modes.begin(), modes.end(), baseline) == modes.end())
    comparison.warnings.push_back(baseline + " was added: it is the baseline of every speedup");

  // The interpreters: this build's alone, or `--python`'s side by side.
  KnownInterpreters known;
  try {
    known = known_interpreters(args.interpreters);
  } catch (const InterpreterError& error) {
    return usage_error(error.what());
  }
  for (const auto& note : known.list.notes) comparison.warnings.push_back(note);
  std::vector<PlannedInterpreter> pythons;
  const fs::path exe = self_exe();
  auto planned = [&](const Interpreter& interpreter) {
    return PlannedInterpreter{
        interpreter.name, interpreter.free_threaded,
        interpreter.source == Interpreter::Source::Self ? "" : interpreter.pyhost.string()};
  };
  if (args.pythons.empty()) {
    pythons.push_back(planned(known.list.interpreters.front()));
  } else {
    for (const auto& name : split_list(args.pythons)) {
      const Interpreter* interpreter = known.list.find(name);
      if (!interpreter)
        return usage_error(
            fmt::format("--python: unknown interpreter '{}' (known here: {}; "
                        "register another pyhost build with --interpreter PATH "
                        "or {})",
                        name, known.list.names(), kInterpretersEnv));
      if (std::any_of(pythons.begin(), pythons.end(),
                      [&](const PlannedInterpreter& p) { return p.name == name; }))
        return usage_error(fmt::format("--python: '{}' is listed twice", name));
      pythons.push_back(planned(*interpreter));
    }
    if (pythons.empty()) return usage_error("--python needs at least one interpreter");
  }
  std::optional<PlannedInterpreter> companion;
  for (const auto& interpreter : known.list.interpreters)
    if (interpreter.source == Interpreter::Source::Companion)
      companion = PlannedInterpreter{interpreter.name, true, ""};
  if (known.list.interpreters.front().free_threaded)  // a free-threaded build is its own
    companion = planned(known.list.interpreters.front());
  if (pythons.size() > 1)
    for (const auto& p : pythons) comparison.interpreters.push_back(p.name);
  std::vector<std::string> left_out;
  const std::vector<Config> configs =
      plan_configs(pythons, companion, modes, workers, tasks, &left_out);
  for (const auto& line : left_out) {
    fmt::print(stderr, "pyhost compare: note: {}\n", line);
    comparison.warnings.push_back(line);
  }
  const bool show_progress = ::isatty(STDERR_FILENO);
  DriveResult driven;
  try {
    TempDir dir("pyhost-compare");
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
    if (comparison.python.empty() && !runs.empty() && config.python == pythons.front().name)
      comparison.python = runs.front().python;
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
    if (!args.csv_path.empty()) write_file_atomically(args.csv_path, render_csv(comparison));
    if (!args.markdown_path.empty())
      write_file_atomically(args.markdown_path, render_markdown(comparison));
    if (!args.html_path.empty()) write_file_atomically(args.html_path, render_html(comparison));
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
      "Synopsis: pyhost compare [OPTIONS] SCRIPT [ARGS...] [OPTIONS]\n"
      "      or: pyhost compare [OPTIONS] SCRIPT -- ARGS...   (for ARGS that start with '-')");
  app->add_option("script", args->script, "the script to measure")->required();
  app->add_option("args", args->script_args, "arguments for the script")->allow_extra_args();
  app->add_option("--modes", args->modes,
                  "comma-separated modes (default: those this build has of " + mode_names() + ")");
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
  app->add_option("--python", args->pythons,
                  "comma-separated interpreters to compare side by side, as `pyhost info` names "
                  "them (3.13,3.13t,...; default: this build's)");
  app->add_option("--interpreter", args->interpreters, kInterpreterFlagHelp)
      ->type_name("PATH")
      ->allow_extra_args(false);
  app->add_option("--color", args->color, "auto | always | never (default auto: on a terminal)")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  return {app, [args] { return compare(*args); }};
}

}  // namespace pyhost::cli
