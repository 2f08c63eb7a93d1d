#include "report/journal.hpp"

#include "util/write_all.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <system_error>

namespace pyhost {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw std::system_error(errno, std::generic_category(), what + " " + path);
}

void write_or_throw(int fd, std::string_view data, const std::string& path) {
  if (const int error = write_all(fd, data)) {
    errno = error;
    fail("cannot write journal", path);
  }
}

}  // namespace

JournalWriter::JournalWriter(const std::string& path)
    : fd_(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) {
  if (fd_.get() < 0) fail("cannot open journal", path);
  // A crash mid-line left a torn record: end it, so that it stays one unreadable line alone.
  const off_t size = ::lseek(fd_.get(), 0, SEEK_END);
  if (size > 0) {
    char last = '\n';
    UniqueFd reader(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (reader.get() >= 0 && ::pread(reader.get(), &last, 1, size - 1) == 1 && last != '\n')
      write_or_throw(fd_.get(), "\n", path);
  }
}

void JournalWriter::append(const TaskResult& task) {
  std::string line =
      to_json(task).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard lock(mutex_);
  write_or_throw(fd_.get(), line, "");
  ::fsync(fd_.get());
}

std::map<int, TaskResult> read_journal(const std::string& path) {
  std::map<int, TaskResult> tasks;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (::access(path.c_str(), F_OK) != 0) return tasks;
    fail("cannot read journal", path);
  }
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline after it: a record torn by a crash
    try {
      TaskResult task = task_result_from_json(nlohmann::json::parse(line));
      if (task.id >= 0) tasks[task.id] = std::move(task);
    } catch (const std::exception&) {
      // a torn record closed by a later run's newline: not a result
    }
  }
  return tasks;
}

ResumedTasks resume_tasks(int tasks, const std::string& resume_path) {
  ResumedTasks resumed;
  if (!resume_path.empty()) {
    for (auto& [id, task] : read_journal(resume_path))
      if (task.status == TaskStatus::Ok && id < tasks) resumed.ok[id] = std::move(task);
    fmt::print(stderr, "pyhost: resuming: {} of {} tasks already ok in {}\n", resumed.ok.size(),
               tasks, resume_path);
  }
  for (int task = 0; task < tasks; ++task)
    if (!resumed.ok.count(task)) resumed.todo.push_back(task);
  return resumed;
}

}  // namespace pyhost
