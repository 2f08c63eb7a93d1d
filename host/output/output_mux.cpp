#include "output/output_mux.hpp"

#include "util/write_all.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace pyhost {
namespace {

std::atomic<bool> g_stdio_gone[2];  // fd 1, fd 2

}  // namespace

bool write_fully(int fd, std::string_view data) {
  const int error = write_all(fd, data);
  if (error != EPIPE) return true;  // written, or another error: best effort, the rest dropped
  if (fd == 1 || fd == 2) g_stdio_gone[fd - 1].store(true, std::memory_order_relaxed);
  return false;  // the reader went away
}

bool stdio_reader_gone(StreamId stream) {
  return g_stdio_gone[stream == StreamId::Out ? 0 : 1].load(std::memory_order_relaxed);
}

OutputMux::OutputMux(Options options) : options_(options) {}

std::string OutputMux::prefix(int task) const {
  return options_.tag ? fmt::format("[task {}] ", task) : std::string();
}

void OutputMux::record(Pending& pending, StreamId stream, std::string_view data) {
  std::string& kept = index(stream) == 0 ? pending.recorded.out : pending.recorded.err;
  bool& truncated =
      index(stream) == 0 ? pending.recorded.out_truncated : pending.recorded.err_truncated;
  std::size_t room = options_.record_limit > kept.size() ? options_.record_limit - kept.size() : 0;
  if (data.size() > room) truncated = true;
  kept.append(data.substr(0, room));
}

void OutputMux::emit_raw(StreamId stream, std::string_view data) {
  bool& gone = gone_[index(stream)];
  const int fd = stream == StreamId::Out ? options_.out_fd : options_.err_fd;
  if (gone || fd < 0) return;
  if (!write_fully(fd, data)) gone = true;
}

bool OutputMux::reader_gone(StreamId stream) {
  std::lock_guard lock(mutex_);
  return gone_[index(stream)];
}

void OutputMux::emit_lines(int task, StreamId stream, std::string_view lines) {
  if (!options_.tag) {
    emit_raw(stream, lines);
    return;
  }
  std::string tagged;
  tagged.reserve(lines.size() + 16);
  const std::string tag = prefix(task);
  while (!lines.empty()) {
    std::size_t end = lines.find('\n');
    std::size_t take = end == std::string_view::npos ? lines.size() : end + 1;
    tagged += tag;
    tagged.append(lines.substr(0, take));
    lines.remove_prefix(take);
  }
  emit_raw(stream, tagged);
}

bool OutputMux::write(int task, StreamId stream, std::string_view data) {
  std::lock_guard lock(mutex_);
  Pending& pending = tasks_[task];
  record(pending, stream, data);
  if (options_.style == OutputStyle::Passthrough) {
    emit_raw(stream, data);
    return !gone_[index(stream)];
  }
  std::string& partial = pending.partial[index(stream)];
  std::size_t last_newline = data.rfind('\n');
  if (last_newline == std::string_view::npos) {
    partial.append(data);
    return !gone_[index(stream)];
  }
  std::string complete = std::move(partial);
  complete.append(data.substr(0, last_newline + 1));
  partial.assign(data.substr(last_newline + 1));
  if (options_.style == OutputStyle::Grouped) {
    pending.block[index(stream)] += complete;
  } else {
    emit_lines(task, stream, complete);
  }
  return !gone_[index(stream)];
}

void OutputMux::finish_task(int task) {
  std::lock_guard lock(mutex_);
  auto it = tasks_.find(task);
  if (it == tasks_.end()) return;
  Pending& pending = it->second;
  for (StreamId stream : {StreamId::Out, StreamId::Err}) {
    std::string& partial = pending.partial[index(stream)];
    std::string& block = pending.block[index(stream)];
    if (!partial.empty()) {
      block += partial + "\n";
      partial.clear();
      if (options_.style == OutputStyle::Prefixed) {
        emit_lines(task, stream, block);
        block.clear();
      }
    }
    if (!block.empty()) {
      emit_lines(task, stream, block);
      block.clear();
    }
  }
}

bool OutputMux::holds_output(int task) {
  std::lock_guard lock(mutex_);
  auto it = tasks_.find(task);
  if (it == tasks_.end()) return false;
  for (int i : {0, 1})
    if (!it->second.partial[i].empty() || !it->second.block[i].empty()) return true;
  return false;
}

CapturedOutput OutputMux::take_recorded(int task) {
  std::lock_guard lock(mutex_);
  auto it = tasks_.find(task);
  if (it == tasks_.end()) return {};
  CapturedOutput out = std::move(it->second.recorded);
  tasks_.erase(it);
  return out;
}

void OutputMux::host_message(std::string_view line) {
  std::lock_guard lock(mutex_);
  std::string text(line);
  if (text.empty() || text.back() != '\n') text += '\n';
  emit_raw(StreamId::Err, text);
}

}  // namespace pyhost
