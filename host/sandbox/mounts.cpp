// The sandbox's file system: a new root on tmpfs that shows only the exposed paths.
#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "sandbox/confine_steps.hpp"

namespace pyhost::sandbox {
namespace {

namespace fs = std::filesystem;

// System files every Python program may read; the network's only with --sandbox-net.
constexpr const char* kSystem[] = {"/usr",
                                   "/bin",
                                   "/sbin",
                                   "/lib",
                                   "/lib32",
                                   "/lib64",
                                   "/libx32",
                                   "/etc/ld.so.cache",
                                   "/etc/ld.so.conf",
                                   "/etc/ld.so.conf.d",
                                   "/etc/localtime",
                                   "/etc/hosts",
                                   "/etc/nsswitch.conf"};
constexpr const char* kNetwork[] = {"/etc/resolv.conf", "/etc/gai.conf", "/etc/services",
                                    "/etc/protocols",   "/etc/ssl",      "/etc/ca-certificates"};
constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom"};

bool fail(std::string& why, const std::string& what) {
  why = what + ": " + std::strerror(errno);
  return false;
}

bool make_parents(const std::string& path) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  return !ec;
}

unsigned long locked_flags(const std::string& path) {
  struct statvfs info {};
  if (::statvfs(path.c_str(), &info) != 0) return 0;
  unsigned long flags = 0;
  if (info.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (info.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (info.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (info.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (info.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (info.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

// Binds the host's `path` (under /oldroot) at the same path under /newroot.
bool bind(const std::string& path, bool writable, std::string& why) {
  const std::string source = "/oldroot" + path, target = "/newroot" + path;
  struct stat st {};
  if (::stat(source.c_str(), &st) != 0) return true;  // absent on this machine: nothing to show
  struct stat existing {};
  if (::lstat(target.c_str(), &existing) != 0) {
    if (!make_parents(target)) return fail(why, "mkdir -p " + target);
    if (S_ISDIR(st.st_mode)) {
      if (::mkdir(target.c_str(), 0755) != 0) return fail(why, "mkdir " + target);
    } else {
      const int fd = ::open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0) return fail(why, "create " + target);
      ::close(fd);
    }
  }
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0)
    return fail(why, "bind " + path);
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | locked_flags(target);
  if (!writable) flags |= MS_RDONLY;
  if (::mount(nullptr, target.c_str(), nullptr, flags, nullptr) != 0)
    return fail(why, "remount " + path);
  return true;
}

// A system entry that is a symbolic link (/lib -> usr/lib on merged-/usr systems) stays one when
// its target is shown anyway; otherwise what it points to is bound in its place.
bool show_system(const std::string& path, std::string& why) {
  struct stat st {};
  if (::lstat(("/oldroot" + path).c_str(), &st) != 0) return true;
  if (S_ISLNK(st.st_mode)) {
    char target[4096];
    const ssize_t n = ::readlink(("/oldroot" + path).c_str(), target, sizeof target - 1);
    if (n < 0) return fail(why, "readlink " + path);
    target[n] = 0;
    std::error_code ec;
    const std::string resolved = fs::weakly_canonical(fs::path(path).parent_path() / target, ec);
    if (resolved.rfind("/usr/", 0) == 0) {
      if (!make_parents("/newroot" + path) || ::symlink(target, ("/newroot" + path).c_str()) != 0)
        return fail(why, "symlink " + path);
      return true;
    }
  }
  return bind(path, false, why);
}

bool mount_tmpfs(const std::string& target, const std::string& options, std::string& why) {
  std::error_code ec;
  fs::create_directories(target, ec);
  if (::mount("tmpfs", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0)
    return fail(why, "mount tmpfs on " + target);
  return true;
}

bool make_dev(long tmp_mb, std::string& why) {
  if (!mount_tmpfs("/newroot/dev", "mode=0755,size=64k", why)) return false;
  for (const char* name : kDevices) {
    const std::string target = std::string("/newroot/dev/") + name;
    const int fd = ::open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) return fail(why, "create " + target);
    ::close(fd);
    const std::string source = std::string("/oldroot/dev/") + name;
    if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0)
      return fail(why, "bind /dev/" + std::string(name));
  }
  const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "fd"},
                                                       {"/proc/self/fd/0", "stdin"},
                                                       {"/proc/self/fd/1", "stdout"},
                                                       {"/proc/self/fd/2", "stderr"}};
  for (const auto& [to, name] : links)
    if (::symlink(to, (std::string("/newroot/dev/") + name).c_str()) != 0)
      return fail(why, std::string("symlink /dev/") + name);
  // multiprocessing's semaphores live in /dev/shm.
  return mount_tmpfs("/newroot/dev/shm", "mode=1777,size=" + std::to_string(tmp_mb) + "m", why);
}

}  // namespace

std::vector<std::string> system_paths(bool net) {
  std::vector<std::string> paths(std::begin(kSystem), std::end(kSystem));
  if (net) paths.insert(paths.end(), std::begin(kNetwork), std::end(kNetwork));
  return paths;
}

std::vector<Exposed> exposed_paths(const WorkerSpec& spec) {
  std::vector<Exposed> out;
  for (const auto& path : spec.policy.read) out.push_back({path, false});
  for (const auto& path : spec.policy.write) out.push_back({path, true});
  std::sort(out.begin(), out.end(), [](const Exposed& a, const Exposed& b) {
    return a.path != b.path ? a.path < b.path : a.writable < b.writable;
  });
  // A path inside another of the same kind is shown with it already.
  std::vector<Exposed> kept;
  for (const Exposed& entry : out) {
    const bool covered = std::any_of(kept.begin(), kept.end(), [&](const Exposed& outer) {
      const bool inside =
          entry.path == outer.path || (entry.path.rfind(outer.path, 0) == 0 &&
                                       (outer.path == "/" || entry.path[outer.path.size()] == '/'));
      return inside && outer.writable == entry.writable;
    });
    if (!covered) kept.push_back(entry);
  }
  return kept;
}

bool build_root(const WorkerSpec& spec, const std::vector<Exposed>& exposed, unsigned uid,
                unsigned gid, std::string& why) {
  // Nothing mounted from here on may reach the host's mount namespace.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return fail(why, "make / private");
  if (!mount_tmpfs("/tmp", "mode=0755,size=1m", why)) return false;
  if (::chdir("/tmp") != 0 || ::mkdir("newroot", 0755) != 0 || ::mkdir("oldroot", 0755) != 0)
    return fail(why, "prepare the new root");
  if (::mount("newroot", "newroot", nullptr, MS_BIND, nullptr) != 0)
    return fail(why, "bind the new root");
  if (::syscall(SYS_pivot_root, ".", "oldroot") != 0) return fail(why, "pivot_root");
  if (::chdir("/") != 0) return fail(why, "chdir /");
  const std::string tmp_options = "mode=0700,uid=" + std::to_string(uid) +
                                  ",gid=" + std::to_string(gid) +
                                  ",size=" + std::to_string(spec.policy.limits.tmp_mb) + "m";
  if (!mount_tmpfs("/newroot/tmp", tmp_options, why)) return false;
  if (!make_dev(spec.policy.limits.tmp_mb, why)) return false;
  std::error_code ec;
  fs::create_directories("/newroot/proc", ec);
  if (::mount("proc", "/newroot/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    return fail(why, "mount /proc");
  for (const std::string& path : system_paths(spec.policy.net))
    if (!show_system(path, why)) return false;
  for (const Exposed& entry : exposed)
    if (!bind(entry.path, entry.writable, why)) return false;
  if (::umount2("/oldroot", MNT_DETACH) != 0) return fail(why, "detach the old root");
  if (::mount(nullptr, "/newroot", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
              nullptr) != 0)
    return fail(why, "make the new root read-only");
  if (::chdir("/newroot") != 0 || ::syscall(SYS_pivot_root, ".", ".") != 0 ||
      ::umount2(".", MNT_DETACH) != 0 || ::chdir("/") != 0)
    return fail(why, "enter the new root");
  return true;
}

bool bring_up_loopback(std::string& why) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(why, "socket");
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &request) == 0;
  request.ifr_flags |= IFF_UP | IFF_RUNNING;
  ok = ok && ::ioctl(fd, SIOCSIFFLAGS, &request) == 0;
  if (!ok) fail(why, "bring up lo");
  ::close(fd);
  return ok;
}

}  // namespace pyhost::sandbox
