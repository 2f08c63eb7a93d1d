// The messages of pyhost.Executor(mode="mpi") between the Python of two ranks: Python posts bytes
// for a rank and receives what other ranks sent, through two queues that the rank's
// communication thread (rank_session.cpp) services, since only that thread may call MPI
// (MPI_THREAD_SERIALIZED). Plain C++, no MPI, no CPython (`_pyhost.mpi_post/mpi_receive` in
// embed/mpi_functions.cpp are its Python face).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace pyhost::mpi {

// The MPI tag of these messages. Not in rank_session.cpp's enum of run messages: a value of its own,
// far above them, so that tags added there never collide with it. An empty message from rank 0
// says its run has ended (the serving ranks stop).
constexpr int kExecutorTag = 64;

struct Letter {
  int peer = 0;  // the destination (outgoing) or the source (incoming)
  std::string bytes;
};

class ExecutorMailbox {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Received { Letter, Timeout, Closed };

  static ExecutorMailbox& instance();

  // The communication thread's side. open(): from now on letters go out (`wake` is called when
  // one is posted); close(): receivers get Closed once what arrived is read, posts fail.
  void open(int rank, int ranks, std::function<void()> wake);
  void close();
  std::vector<Letter> take_outgoing();
  void deliver(Letter letter);

  // Python's side (any thread). post() is false when no communication thread serves this
  // process (not an --engine mpi rank, or the run is ending).
  bool post(int dest, std::string bytes, std::string* why);
  Received receive(Letter& letter, std::optional<Clock::time_point> deadline);
  int rank() const;
  int ranks() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::function<void()> wake_;
  std::deque<Letter> incoming_;
  std::vector<Letter> outgoing_;
  int rank_ = 0, ranks_ = 1;
  bool open_ = false, closed_ = false;
};

}  // namespace pyhost::mpi
