// The results journal of a run (`--journal F`): one JSON object per finished task, a line each,
// appended and fsync'ed as each task ends, so that it survives a killed pyhost (or a lost MPI
// rank) and can be read while the run goes on. `--resume F` reads it back: a new run skips
// every task that is `ok` there. Plain C++ (no CPython, no MPI).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "pyhost/results.hpp"
#include "util/unique_fd.hpp"

namespace pyhost {

class JournalWriter {
 public:
  // Opens `path` for appending (created if missing). A torn last line left by a crash is closed
  // with a newline first, so that the next record starts a line of its own. Throws
  // std::system_error.
  explicit JournalWriter(const std::string& path);
  // One line for `task` (the fields of a task of --json), then fsync. Thread-safe.
  void append(const TaskResult& task);

 private:
  std::mutex mutex_;
  UniqueFd fd_;
};

// The tasks recorded in a journal, by id (the last record of a task wins). Lines that are not
// whole JSON objects (a torn last line after a crash) are ignored. A missing file is an empty
// journal; one that cannot be read throws std::system_error.
std::map<int, TaskResult> read_journal(const std::string& path);

// What `--resume` leaves to run of a plan of `tasks` tasks: the tasks already ok in the journal
// at `resume_path` (their records) and the others, in order. An empty path resumes nothing;
// otherwise "pyhost: resuming: N of K tasks already ok in F" goes to stderr. The one reading of
// a journal for a resumed run, local or across MPI ranks.
struct ResumedTasks {
  std::map<int, TaskResult> ok;
  std::vector<int> todo;
};
ResumedTasks resume_tasks(int tasks, const std::string& resume_path);

}  // namespace pyhost
