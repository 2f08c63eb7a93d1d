// Reading and writing protocol frames on pipe file descriptors.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>

#include "protocol/protocol.hpp"

namespace pyhost::proto {

// Serialises whole frames onto one descriptor from several threads.
class FrameWriter {
 public:
  explicit FrameWriter(int fd) : fd_(fd) {}
  // False if the reader is gone.
  bool send(const Frame& frame);

 private:
  int fd_;
  std::mutex mutex_;
};

enum class ReadStatus { Frame, Timeout, Closed };

// Blocking reads of frames from one descriptor, with an optional deadline.
class FrameReader {
 public:
  explicit FrameReader(int fd) : fd_(fd) {}
  // Throws ProtocolError on a malformed stream.
  ReadStatus read(Frame& frame,
                  std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

 private:
  int fd_;
  FrameDecoder decoder_;
};

}  // namespace pyhost::proto
