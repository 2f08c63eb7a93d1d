#include "channel/byte_channel.hpp"

namespace pyhost {
namespace {

// Waits on `cv` until `ready()` or the deadline; returns ready().
template <typename Ready>
bool wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                const ByteChannel::Deadline& deadline, Ready ready) {
  if (!deadline) {
    cv.wait(lock, ready);
    return true;
  }
  return cv.wait_until(lock, *deadline, ready);
}

}  // namespace

ChannelStatus ByteChannel::put(ChannelMessage& message, Deadline deadline) {
  std::unique_lock lock(mutex_);
  if (!wait_until(not_full_, lock, deadline, [&] { return closed_ || has_room(); }))
    return ChannelStatus::Timeout;
  if (closed_) return ChannelStatus::Closed;
  queue_.push_back(std::move(message));
  lock.unlock();
  not_empty_.notify_one();
  return ChannelStatus::Ok;
}

ChannelStatus ByteChannel::get(ChannelMessage& out, Deadline deadline) {
  std::unique_lock lock(mutex_);
  if (!wait_until(not_empty_, lock, deadline, [&] { return closed_ || !queue_.empty(); }))
    return ChannelStatus::Timeout;
  if (queue_.empty()) return ChannelStatus::Closed;
  out = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  not_full_.notify_one();
  return ChannelStatus::Ok;
}

void ByteChannel::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  not_empty_.notify_all();
  not_full_.notify_all();
}

std::size_t ByteChannel::size() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

bool ByteChannel::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

ChannelRegistry& ChannelRegistry::instance() {
  static ChannelRegistry registry;
  return registry;
}

std::uint64_t ChannelRegistry::create(std::size_t max_messages) {
  std::lock_guard lock(mutex_);
  const std::uint64_t id = next_id_++;
  entries_.emplace(id, Entry{std::make_shared<ByteChannel>(max_messages), 1});
  return id;
}

std::shared_ptr<ByteChannel> ChannelRegistry::find(std::uint64_t id) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second.channel;
}

bool ChannelRegistry::retain(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  ++it->second.references;
  return true;
}

void ChannelRegistry::release(std::uint64_t id) {
  std::shared_ptr<ByteChannel> dropped;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end() || --it->second.references > 0) return;
    dropped = std::move(it->second.channel);
    entries_.erase(it);
  }
  // Anyone still blocked on it (through a shared_ptr from find) must not wait forever.
  dropped->close();
}

std::size_t ChannelRegistry::count() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace pyhost
