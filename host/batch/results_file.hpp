// The batch results JSON: rewritten atomically after every finished job, so that a killed
// pyhost leaves a valid file holding every job that had finished.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pyhost::batch {

inline constexpr int kResultsFormatVersion = 1;

class ResultsFile {
 public:
  // `planned`: names of the jobs of this batch in run order (the order of "jobs" in the file);
  // `meta`: top-level fields (job_file, results_dir, started_at, ...).
  ResultsFile(std::filesystem::path path, std::vector<std::string> planned,
              nlohmann::ordered_json meta);

  void set_job(const std::string& name, nlohmann::ordered_json job);
  // `interrupted_by`: "SIGINT"/"SIGTERM" when pyhost was asked to stop, else empty.
  nlohmann::ordered_json document(double wall_s, bool complete,
                                  std::string_view interrupted_by) const;
  void write(double wall_s, bool complete, std::string_view interrupted_by) const;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::vector<std::string> planned_;
  nlohmann::ordered_json meta_;
  std::map<std::string, nlohmann::ordered_json> jobs_;
};

// Serialises with invalid UTF-8 (script output) replaced rather than throwing.
std::string dump_json(const nlohmann::ordered_json& value);

// The jobs of an earlier results file (for --resume), by name. Accepts partial files (a killed
// batch). Throws std::runtime_error naming the file when it cannot be read or is not one.
std::map<std::string, nlohmann::ordered_json> load_results_jobs(const std::filesystem::path& path);

}  // namespace pyhost::batch
