// Files the host writes and reads: results that must survive a killed pyhost, tails of logs, and
// private scratch directories.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace pyhost {

// Replaces `path` with `content` so that readers (and a crash at any moment) see either the old
// or the new file, never a torn one: temp file in the same directory, fsync, rename, fsync dir.
// Throws std::system_error.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);
// The same for content made a piece at a time: `produce` calls its argument with each piece,
// which goes out in buffered writes, so that the whole content is never in memory at once.
using FilePieces = std::function<void(std::string_view piece)>;
void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(const FilePieces& write)>& produce);

// Whole file; throws std::system_error when it cannot be read.
std::string read_file(const std::filesystem::path& path);

struct FileTail {
  std::string text;    // the last bytes of the file (whole when small)
  uint64_t bytes = 0;  // size of the whole file
  bool truncated() const { return bytes > text.size(); }
};

// The last `max_bytes` of a file (all of it when smaller); empty when it does not exist.
FileTail read_tail(const std::filesystem::path& path, std::size_t max_bytes);

// A private directory (mode 0700) under the system's temporary directory, removed with
// everything in it when the object goes away. Throws std::system_error.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "pyhost");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace pyhost
