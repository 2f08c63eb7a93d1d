// On-disk cache of compiled kernels (CPU shared objects, PTX, CUBIN).
//
// Layout: one directory ($PYHOST_KERNEL_CACHE, else $XDG_CACHE_HOME/pyhost/kernels, else
// ~/.cache/pyhost/kernels) holding <key>.<ext> payloads and <key>.meta descriptions. The key is a
// SHA-256 over everything that changes the binary (see make_key). Entries are written to a
// temporary file and renamed into place; the payload's SHA-256 is recorded in the .meta and
// checked on every load. The directory is created 0700, and a directory or file that another user
// could write is refused: loading a poisoned cache entry would run its code.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace pyhost::kernels {

struct CacheEntry {
  std::string key;
  std::string kind;  // "so" (CPU), "ptx", "cubin"
  std::string name;  // kernel name
  std::string arch;  // target ("x86_64", "sm_90", "compute_75")
  std::uint64_t size = 0;
  std::int64_t created = 0;  // unix time
  std::filesystem::path payload;
};

class KernelCache {
 public:
  // The directory the environment selects; "" when PYHOST_KERNEL_CACHE=off.
  static std::filesystem::path default_dir();

  explicit KernelCache(std::filesystem::path dir);

  const std::filesystem::path& dir() const { return dir_; }
  // Creates the directory (0700) when missing and checks it. Empty: usable; else why not.
  const std::string& problem() const { return problem_; }
  bool usable() const { return problem_.empty(); }

  // The payload of `key` if present and intact; a damaged or unsafe entry is removed (and
  // `why`, when given, says what was wrong).
  std::optional<std::filesystem::path> lookup(const std::string& key, const std::string& kind,
                                              std::string* why = nullptr) const;
  // A path in the cache directory for a new temporary file (same filesystem: rename is atomic).
  std::filesystem::path temp_path(const std::string& suffix) const;
  // Moves a finished temporary payload into place and writes its .meta; returns the final path.
  std::filesystem::path adopt(const std::filesystem::path& temp, const std::string& key,
                              const std::string& kind, const std::string& name,
                              const std::string& arch) const;
  // Writes `payload` as the entry's content (temp file then rename).
  std::filesystem::path store(const std::string& key, const std::string& kind,
                              const std::string& name, const std::string& arch,
                              const std::string& payload) const;

  std::vector<CacheEntry> list() const;
  // Removes every entry and stray temporary file; returns the number of entries removed.
  std::size_t clear() const;

 private:
  std::filesystem::path dir_;
  std::string problem_;
};

// Key over the fields (length-prefixed, so no two field lists collide).
std::string make_key(const std::vector<std::string>& fields);

// Reads a whole file; throws std::runtime_error saying which file could not be read.
std::string read_file(const std::filesystem::path& path);

// Checks that `path` is a regular file (not a link) owned by us and not writable by group or
// others. Empty: fine; else what is wrong.
std::string check_private_file(const std::filesystem::path& path);

}  // namespace pyhost::kernels
