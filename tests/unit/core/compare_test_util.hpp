// A finished task for the compare tests (test_compare_*.cpp): an ok task of `worker` that ran
// from `start` to `end` (seconds into the run) and used `cpu` seconds of CPU, `runq` of them
// waiting for a CPU.
#pragma once

#include "report/compare.hpp"

namespace pyhost::compare {

inline TaskResult task(int id, int worker, double start, double end, double cpu, double runq = 0) {
  TaskResult t;
  t.id = id;
  t.worker = worker;
  t.status = TaskStatus::Ok;
  t.exit_code = 0;
  t.start_s = start;
  t.end_s = end;
  t.cpu_s = cpu;
  t.runq_s = runq;
  return t;
}

}  // namespace pyhost::compare
