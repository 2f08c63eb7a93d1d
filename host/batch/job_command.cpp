#include "batch/job_command.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace pyhost::batch {

namespace fs = std::filesystem;

AttemptFiles attempt_files(const fs::path& results_dir, const std::string& job, int attempt) {
  std::string stem = fmt::format("{}.attempt{}", job, attempt);
  return {results_dir / (stem + ".stdout"), results_dir / (stem + ".stderr"),
          results_dir / (stem + ".json")};
}

std::vector<std::string> run_arguments(const JobSpec& job, const fs::path& json_path) {
  RunPlan plan;
  if (job.mode) plan.mode = *job.mode;
  plan.workers = job.workers.value_or(0);
  plan.tasks = job.tasks.value_or(0);
  plan.target = {job.kind, job.target, job.args};
  plan.sandbox = job.sandbox;
  return plan.to_argv(json_path.string());
}

AttemptCommand make_attempt_command(const JobSpec& job, int attempt, const fs::path& exe,
                                    const fs::path& results_dir) {
  AttemptFiles files = attempt_files(results_dir, job.name, attempt);
  LaunchSpec spec;
  spec.exe = exe;
  spec.args = run_arguments(job, files.json_path);
  spec.env = job.env;
  spec.env["PYHOST_BATCH_JOB"] = job.name;
  spec.env["PYHOST_BATCH_ATTEMPT"] = std::to_string(attempt);
  spec.cwd = job.cwd;
  spec.stdout_path = files.stdout_path;
  spec.stderr_path = files.stderr_path;
  return {std::move(spec), files.json_path};
}

std::string fingerprint(const JobSpec& job) {
  // FNV-1a over length-prefixed fields: unambiguous, stable across builds and platforms.
  uint64_t hash = 0xcbf29ce484222325ULL;
  auto feed = [&](std::string_view field) {
    std::string framed = fmt::format("{}:", field.size());
    framed.append(field);
    for (unsigned char c : framed) {
      hash ^= c;
      hash *= 0x100000001b3ULL;
    }
  };
  feed(std::to_string(static_cast<int>(job.kind)));
  feed(job.target);
  feed(std::to_string(job.args.size()));
  for (const auto& a : job.args) feed(a);
  feed(std::to_string(job.env.size()));
  for (const auto& [k, v] : job.env) {
    feed(k);
    feed(v);
  }
  feed(job.cwd.string());
  feed(job.mode.value_or(""));
  feed(job.workers ? std::to_string(*job.workers) : "");
  feed(job.tasks ? std::to_string(*job.tasks) : "");
  // Only a sandboxed job's definition gains words: older results files keep their fingerprints.
  for (const auto& word : job.sandbox.to_argv()) feed(word);
  return fmt::format("{:016x}", hash);
}

std::string display_command(const fs::path& exe, const std::vector<std::string>& args) {
  auto quote = [](const std::string& word) {
    bool plain = !word.empty() && word.find_first_not_of(
                                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789_-./=:,+@%") == std::string::npos;
    if (plain) return word;
    std::string out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  };
  std::string line = quote(exe.string());
  for (const auto& a : args) {
    line += ' ';
    line += quote(a);
  }
  return line;
}

}  // namespace pyhost::batch
