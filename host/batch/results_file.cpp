#include "batch/results_file.hpp"

#include "batch/job_result.hpp"
#include "util/files.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace pyhost::batch {

ResultsFile::ResultsFile(std::filesystem::path path, std::vector<std::string> planned,
                         nlohmann::ordered_json meta)
    : path_(std::move(path)), planned_(std::move(planned)), meta_(std::move(meta)) {}

void ResultsFile::set_job(const std::string& name, nlohmann::ordered_json job) {
  jobs_[name] = std::move(job);
}

nlohmann::ordered_json ResultsFile::document(double wall_s, bool complete,
                                             std::string_view interrupted_by) const {
  nlohmann::ordered_json doc = {{"format", "pyhost-batch-results"},
                                {"version", kResultsFormatVersion}};
  doc.update(meta_);
  doc["wall_s"] = wall_s;
  doc["complete"] = complete;
  doc["interrupted"] = interrupted_by.empty() ? nlohmann::ordered_json(nullptr)
                                              : nlohmann::ordered_json(std::string(interrupted_by));
  nlohmann::ordered_json summary = {{"total", planned_.size()}, {"pending", 0}};
  for (Status s : {Status::Ok, Status::Failed, Status::Crashed, Status::Timeout, Status::Skipped})
    summary[std::string(to_string(s))] = 0;
  nlohmann::ordered_json jobs = nlohmann::ordered_json::array();
  for (const auto& name : planned_) {
    auto it = jobs_.find(name);
    if (it == jobs_.end()) {
      summary["pending"] = summary["pending"].get<int>() + 1;
      continue;
    }
    std::string status = it->second.value("status", "failed");
    if (summary.contains(status)) summary[status] = summary[status].get<int>() + 1;
    jobs.push_back(it->second);
  }
  doc["summary"] = std::move(summary);
  doc["jobs"] = std::move(jobs);
  return doc;
}

void ResultsFile::write(double wall_s, bool complete, std::string_view interrupted_by) const {
  write_file_atomically(path_, dump_json(document(wall_s, complete, interrupted_by)) + "\n");
}

std::string dump_json(const nlohmann::ordered_json& value) {
  return value.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::map<std::string, nlohmann::ordered_json> load_results_jobs(const std::filesystem::path& path) {
  nlohmann::ordered_json doc;
  try {
    doc = nlohmann::ordered_json::parse(read_file(path));
  } catch (const std::exception& e) {
    throw std::runtime_error(
        fmt::format("--resume {}: not a readable results file: {}", path.string(), e.what()));
  }
  if (!doc.is_object() || !doc.contains("jobs") || !doc["jobs"].is_array())
    throw std::runtime_error(fmt::format(
        "--resume {}: not a pyhost batch results file (no \"jobs\" list)", path.string()));
  std::map<std::string, nlohmann::ordered_json> jobs;
  for (const auto& job : doc["jobs"]) {
    if (!job.is_object() || !job.contains("name") || !job["name"].is_string() ||
        !job.contains("status") || !job["status"].is_string())
      throw std::runtime_error(
          fmt::format("--resume {}: a job entry lacks \"name\" or \"status\"", path.string()));
    jobs[job["name"].get<std::string>()] = job;
  }
  return jobs;
}

}  // namespace pyhost::batch
