// Runs a Python function across own-GIL sub-interpreters through the installed libpyhost: each
// task computes its share and prints it; the application reads the results back from C++.
//   sum_of_squares [MODE]     (default subinterpreters; any of pyhost::all_modes())
#include <pyhost/run.hpp>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  pyhost::RunPlan plan;
  plan.mode = argc > 1 ? argv[1] : "subinterpreters";  // any name from pyhost::all_modes()
  plan.workers = 2;
  plan.tasks = 4;
  plan.record_output = true;  // keep each task's stdout in its result
  plan.echo_output = false;   // ... and do not print it
  plan.target.kind = pyhost::TaskTarget::Kind::Code;
  plan.target.value =
      "import pyhost\n"
      "def sum_of_squares(lo, hi):\n"
      "    return sum(i * i for i in range(lo, hi))\n"
      "n = 1_000_000\n"
      "step = n // pyhost.tasks\n"
      "lo = pyhost.task_id * step\n"
      "print(sum_of_squares(lo, n if pyhost.task_id == pyhost.tasks - 1 else lo + step))\n";

  pyhost::RunResult result;
  try {
    result = pyhost::run(plan);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "cannot run: %s\n", error.what());
    return 2;
  }
  long long total = 0;
  for (const pyhost::TaskResult& task : result.tasks) {
    if (task.status != pyhost::TaskStatus::Ok) {
      std::fprintf(stderr, "task %d %s: %s\n", task.id, std::string(to_string(task.status)).c_str(),
                   task.stderr_text.c_str());
      return 1;
    }
    total += std::stoll(task.stdout_text);
  }
  std::printf("sum of squares below 1000000 = %lld (%zu tasks, %s, %d workers, %.3f s)\n", total,
              result.tasks.size(), result.mode.c_str(), result.workers, result.wall_s);
  return 0;
}
