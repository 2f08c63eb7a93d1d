// The host <-> worker protocol of processes mode: length-prefixed frames over a pair of pipes
// (the worker's fds 3 and 4). Task output does not travel in frames: the worker's stdout and
// stderr are pipes the host reads directly, so that what a task wrote just before it crashed
// is not lost with the worker.
//
// Frame = 16-byte header + payload. Header fields are little-endian:
//   u32 magic 'PYHW' | u16 version | u16 type | u32 task id | u32 payload length
// Hello    worker -> host  payload: JSON {"version", "pid", "python"}
// RunTask  host -> worker  payload: JSON {"kind", "target", "args", "worker", "mode", "workers",
//                                          "tasks", "timeout_s"}
// Result   worker -> host  payload: JSON {"exit_code", "status", "error", "cpu_s", "runq_s",
//                                          "peak_rss_kb", "wall_s", "tainted"}
// Shutdown host -> worker  payload: empty
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

}  // namespace pyhost::proto
