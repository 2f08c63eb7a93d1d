// One child process of a batch job: started through util/child_process.hpp in its own process
// group, so that a timeout or Ctrl-C can stop it together with whatever it started, and ended
// with pyhost (SIGTERM when pyhost dies) so that no job runs on unrecorded.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "util/child_process.hpp"

namespace pyhost::batch {

using pyhost::ChildProcess;
using pyhost::ExitStatus;

struct LaunchSpec {
  std::filesystem::path exe;
  std::vector<std::string> args;           // argv[1..]; no shell involved
  std::map<std::string, std::string> env;  // added to pyhost's environment
  std::filesystem::path cwd;
  std::filesystem::path stdout_path, stderr_path;  // truncated; stdin is /dev/null
};

// Throws std::runtime_error when the job cannot be started (missing exe, bad cwd, an output file
// that cannot be opened).
ChildProcess launch_job(const LaunchSpec& spec);

}  // namespace pyhost::batch
