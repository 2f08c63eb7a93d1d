// The steps of confining a worker (confine.cpp runs them in order, in the sandboxed child).
// Each returns false with `why` set when it fails.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/worker_spec.hpp"

namespace pyhost::sandbox {

// A path the sandbox shows, at the same place as on the host.
struct Exposed {
  std::string path;
  bool writable = false;
};

// Everything a worker reads (system directories, the interpreter, the venv, pyhost's runtime,
// the script's directory, --sandbox-read) and writes (--sandbox-write), parents before children.
std::vector<Exposed> exposed_paths(const WorkerSpec& spec);
// The system's part of what a sandbox shows read-only (/usr, /lib..., a few files of /etc; the
// network's files with `net`).
std::vector<std::string> system_paths(bool net);

// In fresh user + mount namespaces: a new root on tmpfs holding read-only binds of `exposed`
// (writable ones read-write), a private /tmp, /dev, /proc of the new PID namespace; then the
// old root is dropped (pivot_root).
bool build_root(const WorkerSpec& spec, const std::vector<Exposed>& exposed, unsigned uid,
                unsigned gid, std::string& why);
bool bring_up_loopback(std::string& why);

// Landlock: reads beneath the exposed paths, writes beneath the writable ones and /tmp, and
// (ABI >= 6) no signals or abstract sockets out of the sandbox.
// `new_root`: the sandbox's own root (namespaces), whose directories may all be listed.
bool restrict_with_landlock(const std::vector<Exposed>& exposed, bool net, bool new_root,
                            const std::string& private_tmp, std::string& why);
bool install_seccomp_filter(std::string& why);

}  // namespace pyhost::sandbox
