// `pyhost __worker`: one worker process of processes mode.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "protocol/frame_io.hpp"
#include "pyhost/interpreter.hpp"
#include "pyhost/python_error.hpp"
#include "sandbox/confine.hpp"
#include "util/process_info.hpp"
#include "worker/task_runner.hpp"
#include "worker/worker_process.hpp"

namespace pyhost {
namespace {

using proto::Frame;
using proto::FrameType;

RunPlan plan_from(const proto::RunTaskPayload& spec) {
  RunPlan plan;
  plan.mode = spec.mode;
  plan.target = spec.target;
  plan.workers = spec.workers;
  plan.tasks = spec.tasks;
  plan.timeout_s = spec.timeout_s;
  return plan;
}

double process_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

}  // namespace

std::vector<std::string> worker_sandbox_reads() {
  const PythonInfo info = describe_python();
  std::error_code ec;
  const auto python = std::filesystem::canonical(PYHOST_PYTHON_EXE, ec);
  std::vector<std::string> reads;
  for (const std::filesystem::path& path :
       {python.parent_path().parent_path(), std::filesystem::path(info.venv),
        std::filesystem::path(info.runtime_dir), self_exe()}) {
    if (path.empty()) continue;
    const auto canonical = std::filesystem::canonical(path, ec);
    if (!ec) reads.push_back(canonical.string());
  }
  return reads;
}

void enter_sandbox(const std::string& spec_json) {
  sandbox::WorkerSpec spec = sandbox::decode(spec_json);
  for (std::string& path : worker_sandbox_reads()) spec.policy.read.push_back(std::move(path));
  sandbox::enter(spec);
}

int run_worker_process(long memory_limit_mb, const std::string& sandbox_spec) {
  // Frames arrive on fd 3 and leave on fd 4 (stdin is empty, stdout/stderr go straight to the
  // host). Close-on-exec: programs the task starts must not hold the host's pipes.
  constexpr int kFramesIn = 3, kFramesOut = 4;
  if (::fcntl(kFramesIn, F_SETFD, FD_CLOEXEC) != 0 ||
      ::fcntl(kFramesOut, F_SETFD, FD_CLOEXEC) != 0) {
    std::fprintf(stderr,
                 "pyhost __worker: started without its frame pipes (fds 3 and 4); it is "
                 "started by `pyhost run --mode processes`, not by hand\n");
    return 2;
  }
  // Whatever mask the host thread that started us had, this process takes Ctrl-C and SIGTERM.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
  if (!sandbox_spec.empty()) {
    try {
      enter_sandbox(sandbox_spec);  // returns in the confined process only
    } catch (const std::exception& error) {
      std::fprintf(stderr, "pyhost worker: --sandbox: %s\n", error.what());
      return sandbox::kExitConfineFailed;
    }
  }
  proto::FrameWriter writer(kFramesOut);
  proto::FrameReader reader(kFramesIn);

  RuntimeOptions options;
  options.buffered_stdio = false;  // output streams back live, line by line
  std::optional<PythonRuntime> runtime;
  try {
    runtime.emplace(options);
    // SIGTERM forwarded by the host stops the task like Ctrl-C does.
    PyRun_SimpleString("import signal; signal.signal(signal.SIGTERM, signal.default_int_handler)");
  } catch (const std::exception& error) {
    std::fprintf(stderr, "pyhost worker: %s\n", error.what());
    return 70;
  }
  if (memory_limit_mb > 0) {
    rlimit limit{};
    limit.rlim_cur = limit.rlim_max = static_cast<rlim_t>(memory_limit_mb) << 20;
    ::setrlimit(RLIMIT_AS, &limit);
  }
  writer.send({FrameType::Hello, 0,
               proto::encode_payload(proto::HelloPayload{::getpid(), runtime->info().version})});

  OutputMux::Options mux_options;
  mux_options.style = OutputStyle::Passthrough;  // fds 1/2: the pipes to the host
  mux_options.tag = false;
  mux_options.record_limit = 0;
  OutputMux mux(mux_options);
  std::optional<RunPlan> plan;
  std::optional<TaskRunner> runner;
  proto::RunTaskPayload spec;
  std::string last_payload;
  int exit_code = 0;
  try {
    Frame frame;
    while (reader.read(frame) == proto::ReadStatus::Frame) {
      if (frame.type == FrameType::Shutdown) break;
      if (frame.type != FrameType::RunTask) continue;
      // A slot sends the same payload for each of its tasks: decoded once.
      if (frame.payload != last_payload) {
        spec = proto::decode_run_task(frame.payload);
        last_payload = frame.payload;
      }
      if (!plan) {
        plan = plan_from(spec);
        InterpreterRole role;
        role.per_task_cleanup = true;  // the interpreter runs further tasks: python-like ends
        runner.emplace(*plan, role);
      }
      const double cpu0 = process_cpu_seconds();
      TaskResult result = runner->run(static_cast<int>(frame.task), spec.worker,
                                      std::chrono::steady_clock::now(), mux);
      proto::ResultPayload report;
      report.exit_code = result.exit_code;
      report.status = result.status;
      report.error = result.error;
      report.cpu_s = process_cpu_seconds() - cpu0;
      report.runq_s = result.runq_s;
      report.wall_s = result.wall_s();
      report.peak_rss_kb = peak_rss_kb_self();
      report.tainted = result.worker_tainted;
      writer.send({FrameType::Result, frame.task, proto::encode_payload(report)});
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "pyhost worker: %s\n", error.what());
    exit_code = 70;
  }
  runner.reset();
  runtime->finalize();
  return exit_code;
}

}  // namespace pyhost
