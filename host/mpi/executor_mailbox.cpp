#include "mpi/executor_mailbox.hpp"

namespace pyhost::mpi {

ExecutorMailbox& ExecutorMailbox::instance() {
  static ExecutorMailbox mailbox;
  return mailbox;
}

void ExecutorMailbox::open(int rank, int ranks, std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  rank_ = rank;
  ranks_ = ranks;
  wake_ = std::move(wake);
  open_ = true;
  closed_ = false;
}

void ExecutorMailbox::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    open_ = false;
    wake_ = nullptr;
  }
  arrived_.notify_all();
}

std::vector<Letter> ExecutorMailbox::take_outgoing() {
  std::lock_guard lock(mutex_);
  std::vector<Letter> letters;
  letters.swap(outgoing_);
  return letters;
}

void ExecutorMailbox::deliver(Letter letter) {
  {
    std::lock_guard lock(mutex_);
    incoming_.push_back(std::move(letter));
  }
  arrived_.notify_one();
}

bool ExecutorMailbox::post(int dest, std::string bytes, std::string* why) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    if (!open_) {
      *why = closed_ ? "the MPI run of this rank has ended"
                     : "this process is not a rank of `pyhost run --engine mpi`";
      return false;
    }
    if (dest < 0 || dest >= ranks_ || dest == rank_) {
      *why = "no such rank to send to: " + std::to_string(dest);
      return false;
    }
    outgoing_.push_back({dest, std::move(bytes)});
    wake = wake_;
  }
  // Called outside the lock: it takes the communication thread's own lock.
  if (wake) wake();
  return true;
}

ExecutorMailbox::Received ExecutorMailbox::receive(Letter& letter,
                                                   std::optional<Clock::time_point> deadline) {
  std::unique_lock lock(mutex_);
  auto ready = [this] { return !incoming_.empty() || closed_; };
  if (deadline) {
    if (!arrived_.wait_until(lock, *deadline, ready)) return Received::Timeout;
  } else {
    arrived_.wait(lock, ready);
  }
  if (incoming_.empty()) return Received::Closed;
  letter = std::move(incoming_.front());
  incoming_.pop_front();
  return Received::Letter;
}

int ExecutorMailbox::rank() const {
  std::lock_guard lock(mutex_);
  return rank_;
}

int ExecutorMailbox::ranks() const {
  std::lock_guard lock(mutex_);
  return ranks_;
}

}  // namespace pyhost::mpi
