// Per-task output routing: every task's stdout/stderr arrives here in chunks and leaves as whole
// lines (never interleaved inside a line), tagged with the task id when several tasks run.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "pyhost/run.hpp"

namespace pyhost {

enum class StreamId { Out = 1, Err = 2 };

struct CapturedOutput {
  std::string out, err;
  bool out_truncated = false, err_truncated = false;
};

class OutputMux {
 public:
  struct Options {
    OutputStyle style = OutputStyle::Prefixed;
    bool tag = true;                       // "[task k] " prefix on each line
    int out_fd = 1, err_fd = 2;            // -1: not echoed (recorded only)
    std::size_t record_limit = 16u << 20;  // bytes kept per stream per task (for --json)
  };
  explicit OutputMux(Options options);

  // False when nobody reads the stream any more (a write to it failed with EPIPE, now or
  // before): the writer should stop, as python raises BrokenPipeError. The data is recorded.
  bool write(int task, StreamId stream, std::string_view data);
  // True once a write to the stream found its reader gone.
  bool reader_gone(StreamId stream);
  // Emits what the task still holds (an unterminated last line gets its newline).
  void finish_task(int task);
  // Whether finish_task(task) would write anything (an unterminated line, a held block).
  bool holds_output(int task);
  // The task's recorded output (up to record_limit per stream); the record is dropped.
  CapturedOutput take_recorded(int task);
  // Writes host messages (not task output) to stderr without cutting a task's line.
  void host_message(std::string_view line);

 private:
  struct Pending {
    std::string partial[2];  // unterminated line per stream
    std::string block[2];    // grouped style: complete lines held until the task ends
    CapturedOutput recorded;
  };
  static int index(StreamId stream) { return stream == StreamId::Out ? 0 : 1; }
  void record(Pending& pending, StreamId stream, std::string_view data);
  void emit_lines(int task, StreamId stream, std::string_view lines);
  void emit_raw(StreamId stream, std::string_view data);  // remembers a reader gone
  std::string prefix(int task) const;

  Options options_;
  std::mutex mutex_;  // guards tasks_ and the file descriptors' write order
  std::map<int, Pending> tasks_;
  bool gone_[2] = {false, false};  // the reader of out_fd / err_fd went away
};

// write(2) until done; EINTR retried. False when the reader went away (EPIPE; pyhost ignores
// SIGPIPE, as python does): the rest is dropped. Other errors drop the rest too (best effort).
bool write_fully(int fd, std::string_view data);

// True once a write_fully to this process's stdout (Out) or stderr (Err) found no reader: the
// host's own streams, which outlive every mux (processes mode then closes its workers' pipes,
// so that their writes fail too).
bool stdio_reader_gone(StreamId stream);

}  // namespace pyhost
