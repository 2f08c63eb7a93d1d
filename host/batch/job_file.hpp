// Job file model (TOML) and its validation. Everything here is checked before anything runs;
// problems are reported as file:line diagnostics.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "pyhost/run.hpp"

namespace pyhost::batch {

struct Diagnostic {
  std::string file;  // the job file as the user named it
  int line = 0;      // 1-based; 0 when unknown
  std::string message;

  std::string str() const;  // "file:line: error: message"
};

// Thrown for an invalid job file; carries every problem found, not just the first.
class JobFileError : public std::runtime_error {
 public:
  explicit JobFileError(std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

struct JobSpec {
  std::string name;
  TaskTarget::Kind kind = TaskTarget::Kind::Script;
  std::string target;  // absolute script path, module name or code
  std::vector<std::string> args;
  std::map<std::string, std::string> env;  // added to the inherited environment
  std::filesystem::path cwd;               // absolute
  std::vector<std::string> needs;          // deduplicated, in file order
  std::vector<std::string> tags;
  int retries = 0;
  std::optional<double> timeout_s;
  std::optional<std::string> mode;  // unset: pyhost run's default
  std::optional<int> workers;
  std::optional<int> tasks;
  SandboxPolicy sandbox;  // `sandbox = true` or a [sandbox] table (needs mode = "processes")
  // --engine mpi only: the attempt runs its command on this many ranks at once (a gang), and only
  // on ranks of this host (empty: any).
  int ranks = 1;
  std::string host;

  int line = 0;                       // line of the job's table
  int ranks_line = 0, host_line = 0;  // lines of those keys, for placement errors // line of the
                                      // job's table
  std::map<std::string, int> need_lines;  // need -> line where it is named
};

struct JobFile {
  std::string display_path;   // as given, for messages
  std::filesystem::path dir;  // absolute directory of the file: base of relative paths
  std::vector<JobSpec> jobs;  // file order

  const JobSpec* find(std::string_view name) const;
};

// Parses and validates keys, types, values, duplicate names and paths (not the graph: see
// job_graph.hpp). `base_dir` resolves relative paths. Throws JobFileError.
JobFile parse_job_file(std::string_view text, const std::string& display_path,
                       const std::filesystem::path& base_dir);

// Checks `ranks` and `host` against where the batch runs: `rank_hosts` holds each rank's host
// (--engine mpi), null without MPI (both keys are then errors). Throws JobFileError.
void check_placement(const JobFile& file, const std::vector<std::string>* rank_hosts);

// Reads `path` and parses it with the file's directory as base, then validates the graph.
JobFile load_job_file(const std::filesystem::path& path);

}  // namespace pyhost::batch
