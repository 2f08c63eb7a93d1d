// The host <-> worker protocol of processes mode: length-prefixed frames over a pair of pipes
// (the worker's fds 3 and 4). Task output does not travel in frames: the worker's stdout and
// stderr are pipes the host reads directly, so that what a task wrote just before it crashed
// is not lost with the worker.
//
// Frame = 16-byte header + payload. Header fields are little-endian:
//   u32 magic 'PYHW' | u16 version | u16 type | u32 task id | u32 payload length
// Hello    worker -> host  payload: JSON {"version", "pid", "python"}             (HelloPayload)
// RunTask  host -> worker  payload: JSON {"kind", "target", "args", "worker", "mode", "workers",
//                                          "tasks", "timeout_s"}                (RunTaskPayload)
// Result   worker -> host  payload: JSON {"exit_code", "status", "error", "cpu_s", "runq_s",
//                                          "peak_rss_kb", "wall_s", "tainted"}  (ResultPayload)
// Shutdown host -> worker  payload: empty
// Payloads are encoded and decoded only by the functions below; a payload that does not have
// the documented shape is a ProtocolError too.
// A decoder rejects anything else (bad magic, version, type or a length over the limit) with a
// ProtocolError that says what was wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "pyhost/results.hpp"
#include "pyhost/run.hpp"

namespace pyhost::proto {

inline constexpr std::uint32_t kMagic = 0x57485950;  // "PYHW" read as little-endian bytes
inline constexpr std::uint16_t kVersion = 1;
inline constexpr std::size_t kHeaderSize = 16;
inline constexpr std::size_t kMaxPayload = 64u << 20;

enum class FrameType : std::uint16_t { Hello = 1, RunTask = 2, Result = 3, Shutdown = 4 };

struct Frame {
  FrameType type = FrameType::Hello;
  std::uint32_t task = 0;
  std::string payload;
};

class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string_view to_string(FrameType type);

std::string encode(const Frame& frame);

// Incremental decoder: feed bytes as they arrive, take whole frames out.
class FrameDecoder {
 public:
  void feed(std::string_view bytes);
  // The next complete frame, if one has arrived. Throws ProtocolError on malformed input; the
  // decoder is unusable afterwards (a desynchronised stream cannot be trusted).
  std::optional<Frame> next();
  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::string buffer_;
  std::size_t consumed_ = 0;
  bool failed_ = false;
};

// ---- Payloads ---------------------------------------------------------------------------------

struct HelloPayload {
  long pid = 0;
  std::string python;  // the worker's CPython version
};

struct RunTaskPayload {
  TaskTarget target;
  int worker = 0;
  std::string mode;
  int workers = 1, tasks = 1;
  double timeout_s = 0;
};

struct ResultPayload {
  int exit_code = 1;
  TaskStatus status = TaskStatus::Failed;
  std::string error;
  double cpu_s = 0, runq_s = 0, wall_s = 0;
  long peak_rss_kb = 0;
  bool tainted = false;  // the task left threads running: the worker cannot be reused
};

std::string encode_payload(const HelloPayload& hello);
std::string encode_payload(const RunTaskPayload& task);
std::string encode_payload(const ResultPayload& result);
// Each throws ProtocolError when the payload is not of its documented shape.
HelloPayload decode_hello(std::string_view payload);
RunTaskPayload decode_run_task(std::string_view payload);
ResultPayload decode_result(std::string_view payload);

}  // namespace pyhost::proto
