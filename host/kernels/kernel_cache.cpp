#include "kernels/kernel_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "kernels/sha256.hpp"
#include "util/write_all.hpp"

namespace fs = std::filesystem;

namespace pyhost::kernels {
namespace {

constexpr const char* kMetaMagic = "pyhost-kernel-cache 1";

std::string errno_text(int err) {
  return std::strerror(err);
}

// mkdir -p with mode 0700 for every directory created.
std::string make_private_dirs(const fs::path& dir) {
  fs::path partial;
  for (const auto& part : dir) {
    partial /= part;
    if (partial.empty() || partial == partial.root_path()) continue;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      return "cannot create " + partial.string() + ": " + errno_text(errno);
    }
  }
  return {};
}

std::string check_private_dir(const fs::path& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0)
    return "cannot stat " + dir.string() + ": " + errno_text(errno);
  if (!S_ISDIR(st.st_mode)) return dir.string() + " is not a directory";
  if (st.st_uid != ::geteuid()) return dir.string() + " is owned by another user";
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    return dir.string() + " is writable by group or others (chmod 700 it)";
  }
  return {};
}

std::string random_suffix() {
  static std::atomic<unsigned> counter{0};
  std::random_device rd;
  std::ostringstream out;
  out << ::getpid() << '-' << std::hex << rd() << '-' << counter.fetch_add(1);
  return out.str();
}

struct Meta {
  std::string name, kind, arch, sha256;
  std::uint64_t size = 0;
  std::int64_t created = 0;
};

std::optional<Meta> parse_meta(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kMetaMagic) return std::nullopt;
  Meta meta;
  while (std::getline(in, line)) {
    auto space = line.find(' ');
    if (space == std::string::npos) continue;
    std::string field = line.substr(0, space), value = line.substr(space + 1);
    if (field == "name")
      meta.name = value;
    else if (field == "kind")
      meta.kind = value;
    else if (field == "arch")
      meta.arch = value;
    else if (field == "sha256")
      meta.sha256 = value;
    else if (field == "size")
      meta.size = std::strtoull(value.c_str(), nullptr, 10);
    else if (field == "created")
      meta.created = std::strtoll(value.c_str(), nullptr, 10);
  }
  if (meta.sha256.size() != 64 || meta.kind.empty()) return std::nullopt;
  return meta;
}

void write_private_file(const fs::path& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + path.string() + ": " + errno_text(errno));
  if (const int err = write_all(fd, data)) {
    ::close(fd);
    ::unlink(path.c_str());
    throw std::runtime_error("cannot write " + path.string() + ": " + errno_text(err));
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(path.c_str());
    throw std::runtime_error("cannot write " + path.string() + ": " + errno_text(errno));
  }
}

bool is_entry_kind(const std::string& ext) {
  return ext == ".so" || ext == ".ptx" || ext == ".cubin" || ext == ".meta";
}

}  // namespace

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string check_private_file(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    return "cannot stat " + path.string() + ": " + errno_text(errno);
  if (!S_ISREG(st.st_mode)) return path.string() + " is not a regular file";
  if (st.st_uid != ::geteuid()) return path.string() + " is owned by another user";
  if (st.st_mode & (S_IWGRP | S_IWOTH)) return path.string() + " is writable by group or others";
  return {};
}

std::string make_key(const std::vector<std::string>& fields) {
  Sha256 h;
  h.field("pyhost-kernel-key-v1");
  for (const auto& f : fields) h.field(f);
  return h.hex();
}

fs::path KernelCache::default_dir() {
  if (const char* env = std::getenv("PYHOST_KERNEL_CACHE"); env && *env) {
    std::string value = env;
    if (value == "off" || value == "0" || value == "none") return {};
    return fs::path(value);
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg && xdg[0] == '/') {
    return fs::path(xdg) / "pyhost" / "kernels";
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return fs::path(home) / ".cache" / "pyhost" / "kernels";
  }
  return {};
}

KernelCache::KernelCache(fs::path dir) : dir_(std::move(dir)) {
  if (dir_.empty()) {
    problem_ = "the kernel cache is off (PYHOST_KERNEL_CACHE=off or no HOME)";
    return;
  }
  dir_ = dir_.lexically_normal();
  if (!dir_.is_absolute()) dir_ = fs::absolute(dir_);
  problem_ = make_private_dirs(dir_);
  if (problem_.empty()) problem_ = check_private_dir(dir_);
}

std::optional<fs::path> KernelCache::lookup(const std::string& key, const std::string& kind,
                                            std::string* why) const {
  if (!usable()) return std::nullopt;
  fs::path payload = dir_ / (key + "." + kind);
  fs::path meta_path = dir_ / (key + ".meta");
  std::error_code ec;
  if (!fs::exists(payload, ec) || !fs::exists(meta_path, ec)) return std::nullopt;
  std::string problem = check_private_file(meta_path);
  if (problem.empty()) problem = check_private_file(payload);
  std::optional<Meta> meta;
  std::string data;
  if (problem.empty()) {
    try {
      meta = parse_meta(read_file(meta_path));
      data = read_file(payload);
    } catch (const std::exception& e) {
      problem = e.what();
    }
  }
  if (problem.empty() && !meta) problem = meta_path.string() + " is damaged";
  if (problem.empty() &&
      (meta->kind != kind || meta->size != data.size() || meta->sha256 != sha256_hex(data))) {
    problem = payload.string() + " does not match its recorded SHA-256 (damaged or altered)";
  }
  if (!problem.empty()) {
    // Never load it; remove it only if it is ours to remove (unsafe files stay for inspection).
    if (check_private_file(payload).empty() || !fs::exists(payload, ec)) {
      fs::remove(payload, ec);
      fs::remove(meta_path, ec);
    }
    if (why) *why = problem;
    return std::nullopt;
  }
  return payload;
}

fs::path KernelCache::temp_path(const std::string& suffix) const {
  return dir_ / ("tmp-" + random_suffix() + suffix);
}

fs::path KernelCache::adopt(const fs::path& temp, const std::string& key, const std::string& kind,
                            const std::string& name, const std::string& arch) const {
  std::string data = read_file(temp);
  ::chmod(temp.c_str(), 0600);
  fs::path payload = dir_ / (key + "." + kind);
  std::error_code ec;
  fs::rename(temp, payload, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw std::runtime_error("cannot move a compiled kernel into " + payload.string());
  }
  std::ostringstream meta;
  meta << kMetaMagic << "\nname " << name << "\nkind " << kind << "\narch " << arch << "\nsha256 "
       << sha256_hex(data) << "\nsize " << data.size() << "\ncreated "
       << std::chrono::duration_cast<std::chrono::seconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count()
       << "\n";
  fs::path meta_tmp = temp_path(".meta");
  write_private_file(meta_tmp, meta.str());
  fs::rename(meta_tmp, dir_ / (key + ".meta"), ec);
  if (ec) {
    fs::remove(meta_tmp, ec);
    throw std::runtime_error("cannot write " + (dir_ / (key + ".meta")).string());
  }
  return payload;
}

fs::path KernelCache::store(const std::string& key, const std::string& kind,
                            const std::string& name, const std::string& arch,
                            const std::string& payload) const {
  fs::path temp = temp_path("." + kind);
  write_private_file(temp, payload);
  return adopt(temp, key, kind, name, arch);
}

std::vector<CacheEntry> KernelCache::list() const {
  std::vector<CacheEntry> out;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return out;
  for (const auto& item : fs::directory_iterator(dir_, ec)) {
    const fs::path& p = item.path();
    if (p.extension() != ".meta" || p.filename().string().rfind("tmp-", 0) == 0) continue;
    std::optional<Meta> meta;
    try {
      meta = parse_meta(read_file(p));
    } catch (const std::exception&) {
    }
    if (!meta) continue;
    CacheEntry e;
    e.key = p.stem().string();
    e.kind = meta->kind;
    e.name = meta->name;
    e.arch = meta->arch;
    e.size = meta->size;
    e.created = meta->created;
    e.payload = dir_ / (e.key + "." + e.kind);
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const CacheEntry& a, const CacheEntry& b) {
    return a.created != b.created ? a.created < b.created : a.key < b.key;
  });
  return out;
}

std::size_t KernelCache::clear() const {
  std::size_t removed = 0;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return 0;
  std::vector<fs::path> doomed;
  for (const auto& item : fs::directory_iterator(dir_, ec)) {
    const fs::path& p = item.path();
    std::string fname = p.filename().string();
    if (fname.rfind("tmp-", 0) == 0 || is_entry_kind(p.extension().string())) {
      doomed.push_back(p);
      if (p.extension() == ".meta" && fname.rfind("tmp-", 0) != 0) ++removed;
    }
  }
  for (const auto& p : doomed) fs::remove(p, ec);
  return removed;
}

}  // namespace pyhost::kernels
