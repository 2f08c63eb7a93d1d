// MPI as pyhost sees it: libpyhost_mpi.so, loaded with dlopen on the first --engine mpi run, and
// its C ABI (library/pyhost_mpi_abi.h) behind a small class. Everything of a run's messages goes
// through here, from one thread at a time.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pyhost::mpi {

// MPI cannot be used here (library missing, MPI_Init failing): a usage error of --engine mpi.
class MpiUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Message {
  int source = 0, tag = 0;
  std::string bytes;
};

class MpiTransport {
 public:
  // Loads libpyhost_mpi.so (beside the pyhost binary: lib/, ../lib/, or $PYHOST_MPI_LIBRARY)
  // and initialises MPI. Throws MpiUnavailable.
  static MpiTransport& open();

  int rank() const { return rank_; }
  int size() const { return size_; }
  const std::string& host() const { return host_; }
  void send(int dest, int tag, std::string_view bytes);
  // The next message that has arrived, if any (does not wait).
  std::optional<Message> poll();
  // Waits for the next message, which must carry `tag` (a handshake's step: anything else is
  // out of order and throws std::runtime_error). Polls with a growing pause (20 us to 2 ms):
  // MPI has no wait that a second thread could interrupt.
  Message wait_for(int tag);
  void finalize();
  [[noreturn]] void abort(int code);

 private:
  MpiTransport() = default;
  struct Api;
  const Api* api_ = nullptr;
  int rank_ = 0, size_ = 1;
  std::string host_;
};

}  // namespace pyhost::mpi
