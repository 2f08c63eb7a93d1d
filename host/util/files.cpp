#include "util/files.hpp"
#include "util/write_all.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <system_error>

#include "util/unique_fd.hpp"

namespace pyhost {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void write_or_throw(int fd, std::string_view data, const std::string& what) {
  if (const int error = write_all(fd, data)) {
    errno = error;
    throw_errno(what);
  }
}

}  // namespace

void write_file_atomically(const fs::path& path, std::string_view content) {
  write_file_atomically(path, [content](const FilePieces& write) { write(content); });
}

void write_file_atomically(const fs::path& path,
                           const std::function<void(const FilePieces& write)>& produce) {
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::string tmp = (dir / fmt::format(".{}.tmp.XXXXXX", path.filename().string())).string();
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (fd.get() < 0) throw_errno("cannot create a temporary file next to " + path.string());
  try {
    ::fchmod(fd.get(), 0644);                 // mkostemp makes it 0600; results are ordinary files
    constexpr std::size_t kBuffer = 1 << 16;  // a write per piece would be a syscall per task
    std::string buffer;
    produce([&](std::string_view piece) {
      if (buffer.size() + piece.size() > kBuffer) {
        write_or_throw(fd.get(), buffer, "cannot write " + tmp);
        buffer.clear();
      }
      if (piece.size() > kBuffer)
        write_or_throw(fd.get(), piece, "cannot write " + tmp);
      else
        buffer.append(piece);
    });
    write_or_throw(fd.get(), buffer, "cannot write " + tmp);
    if (::fsync(fd.get()) != 0) throw_errno("cannot fsync " + tmp);
    if (::close(fd.release()) != 0) throw_errno("cannot close " + tmp);
    if (::rename(tmp.c_str(), path.c_str()) != 0) throw_errno("cannot write " + path.string());
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  // Make the rename itself durable; failure here does not lose the content, so ignore it.
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() >= 0) ::fsync(dfd.get());
}

FileTail read_tail(const fs::path& path, std::size_t max_bytes) {
  FileTail tail;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return tail;
  off_t size = ::lseek(fd.get(), 0, SEEK_END);
  if (size < 0) return tail;
  tail.bytes = static_cast<uint64_t>(size);
  off_t start = size > static_cast<off_t>(max_bytes) ? size - static_cast<off_t>(max_bytes) : 0;
  tail.text.resize(static_cast<size_t>(size - start));
  size_t got = 0;
  while (got < tail.text.size()) {
    ssize_t n = ::pread(fd.get(), tail.text.data() + got, tail.text.size() - got,
                        start + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  tail.text.resize(got);
  return tail;
}

std::string read_file(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw_errno("cannot read " + path.string());
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("cannot read " + path.string());
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

TempDir::TempDir(std::string_view prefix) {
  std::string pattern = (fs::temp_directory_path() / fmt::format("{}-XXXXXX", prefix)).string();
  if (!::mkdtemp(pattern.data())) throw_errno("cannot create a temporary directory");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace pyhost
