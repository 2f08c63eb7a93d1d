#include "batch/progress.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

namespace pyhost::batch {

std::string human_duration(double seconds) {
  if (seconds < 60) return fmt::format("{:.1f} s", seconds);
  auto total = static_cast<long long>(std::llround(seconds));
  if (total < 3600) return fmt::format("{}:{:02}", total / 60, total % 60);
  return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
}

namespace {

std::string finished_line(const JobResult& job) {
  std::string line = fmt::format("[batch] {:<7} {}", to_string(job.status), job.name);
  if (!job.attempts.empty()) {
    const AttemptResult& last = job.attempts.back();
    double wall = last.end_s - job.attempts.front().start_s;
    line += fmt::format(" ({}, {} attempt{})", human_duration(wall), job.attempts.size(),
                        job.attempts.size() == 1 ? "" : "s");
  }
  if (!job.reason.empty()) line += ": " + job.reason;
  if (job.status != Status::Ok && job.status != Status::Skipped && !job.attempts.empty())
    line += fmt::format(" [stderr: {}]", job.attempts.back().stderr_path);
  return line;
}

std::string retry_line(const JobSpec& job, const AttemptResult& a, double retry_in_s) {
  return fmt::format("[batch] retry   {}: attempt {}/{} {}: {}; next in {}", job.name, a.attempt,
                     job.retries + 1, to_string(a.status), a.reason, human_duration(retry_in_s));
}

class PlainReporter : public Reporter {
 public:
  explicit PlainReporter(std::FILE* stream) : stream_(stream) {}

  void attempt_started(const JobSpec& job, int attempt, int max_attempts) override {
    if (max_attempts > 1)
      print(fmt::format("[batch] start   {} (attempt {}/{})", job.name, attempt, max_attempts));
    else
      print(fmt::format("[batch] start   {}", job.name));
  }
  void attempt_finished(const JobSpec& job, const AttemptResult& a,
                        std::optional<double> retry_in_s) override {
    if (retry_in_s) print(retry_line(job, a, *retry_in_s));
  }
  void job_finished(const JobResult& job) override { print(finished_line(job)); }

 private:
  void print(const std::string& line) {
    fmt::print(stream_, "{}\n", line);
    std::fflush(stream_);
  }
  std::FILE* stream_;
};

class LiveReporter : public Reporter {
 public:
  explicit LiveReporter(std::FILE* stream) : stream_(stream) {}

  void attempt_finished(const JobSpec& job, const AttemptResult& a,
                        std::optional<double> retry_in_s) override {
    if (retry_in_s) print(retry_line(job, a, *retry_in_s));
  }
  void job_finished(const JobResult& job) override { print(finished_line(job)); }

  void tick(const Progress& p) override {
    last_ = p;
    auto now = std::chrono::steady_clock::now();
    if (!erased_ && now - drawn_at_ < std::chrono::milliseconds(100)) return;
    drawn_at_ = now;
    draw();
  }

  void finish() override {
    fmt::print(stream_, "\r\x1b[K");
    std::fflush(stream_);
  }

 private:
  void draw() {
    std::string eta = "?";
    if (last_.done > 0 && last_.done < last_.total)
      eta = human_duration(last_.elapsed_s / static_cast<double>(last_.done) *
                           static_cast<double>(last_.total - last_.done));
    else if (last_.done == last_.total)
      eta = "0 s";
    fmt::print(stream_, "\r\x1b[K[batch] {}/{} done, {} running, {} not ok | {} elapsed, ETA {}",
               last_.done, last_.total, last_.running, last_.not_ok,
               human_duration(last_.elapsed_s), eta);
    std::fflush(stream_);
    erased_ = false;
  }
  // The line is redrawn by the next tick(), with counts that include this event.
  void print(const std::string& line) {
    fmt::print(stream_, "\r\x1b[K{}\n", line);
    std::fflush(stream_);
    erased_ = true;
  }

  std::FILE* stream_;
  Progress last_;
  std::chrono::steady_clock::time_point drawn_at_{};
  bool erased_ = true;  // no progress line on screen
};

}  // namespace

std::unique_ptr<Reporter> Reporter::create(std::FILE* stream, bool live) {
  if (live) return std::make_unique<LiveReporter>(stream);
  return std::make_unique<PlainReporter>(stream);
}

}  // namespace pyhost::batch
