// Bounded FIFOs of byte messages shared by every interpreter of the process: the transport under
// pyhost.Channel and under the sub-interpreter workers of pyhost.Executor. Plain C++ (no CPython)
// so that the locking is tested under TSan; the Python bindings live in host/embed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace pyhost {

// One message: a small tag the Python side uses to say how to read the bytes (raw or pickled).
struct ChannelMessage {
  int tag = 0;
  std::string data;
};

enum class ChannelStatus { Ok, Timeout, Closed };

class ByteChannel {
 public:
  using Clock = std::chrono::steady_clock;
  using Deadline = std::optional<Clock::time_point>;  // nullopt: wait as long as it takes

  // max_messages == 0: unbounded.
  explicit ByteChannel(std::size_t max_messages) : max_messages_(max_messages) {}

  // Waits for room until `deadline`; Closed if the channel is (or gets) closed. `message` is
  // moved from only on Ok, so a caller may retry with it after a timeout.
  ChannelStatus put(ChannelMessage& message, Deadline deadline);
  // Waits for a message until `deadline`; Closed once closed *and* drained.
  ChannelStatus get(ChannelMessage& out, Deadline deadline);
  // No more puts; getters drain what is left, then see Closed. Wakes every waiter.
  void close();

  std::size_t size() const;
  bool closed() const;
  std::size_t max_messages() const { return max_messages_; }

 private:
  bool has_room() const { return max_messages_ == 0 || queue_.size() < max_messages_; }

  const std::size_t max_messages_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<ChannelMessage> queue_;
  bool closed_ = false;
};

// Process-wide table of channels by id, so that any interpreter (own GIL or not) can reach a
// channel from a plain integer that crossed to it by pickle. Reference counted: each Python
// Channel object holds one reference; the channel is dropped when the last one goes.
class ChannelRegistry {
 public:
  static ChannelRegistry& instance();

  std::uint64_t create(std::size_t max_messages);
  // nullptr if no such channel (never created, or already dropped).
  std::shared_ptr<ByteChannel> find(std::uint64_t id) const;
  // Adds a reference; false if the channel is gone.
  bool retain(std::uint64_t id);
  // Drops a reference; the last one closes the channel and removes it.
  void release(std::uint64_t id);
  std::size_t count() const;

 private:
  struct Entry {
    std::shared_ptr<ByteChannel> channel;
    std::size_t references = 0;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::uint64_t next_id_ = 1;
};

}  // namespace pyhost
