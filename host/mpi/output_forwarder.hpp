// A rank other than 0 sends its task output to rank 0 as it is written: its stdout and stderr
// become pipes for the run, whose whole lines the communication thread reads and sends on. The
// local mode's backend writes them as always (its output mux tags and never cuts lines), so rank 0
// prints one stream, each line whole, as lines come.
#pragma once

#include <string>
#include <vector>

#include "util/unique_fd.hpp"

namespace pyhost::mpi {

class OutputForwarder {
 public:
  struct Chunk {
    int fd;  // 1 or 2
    std::string lines;
  };

  // Puts pipes in place of fds 1 and 2 (the originals are kept and restored by restore()).
  OutputForwarder();
  ~OutputForwarder() { restore(); }
  OutputForwarder(const OutputForwarder&) = delete;
  OutputForwarder& operator=(const OutputForwarder&) = delete;

  // What has been written since the last call: whole lines only, or everything when `all`
  // (the run has ended: a last line without its newline goes too). Never blocks.
  std::vector<Chunk> take(bool all);
  // Fds 1 and 2 as they were.
  void restore();

 private:
  struct Stream {
    int target;  // 1 or 2
    UniqueFd saved, read_end;
    std::string pending;
  };
  Stream streams_[2];
  bool restored_ = false;
};

}  // namespace pyhost::mpi
