// Reading the GIL state (host/embed/gil_state.c) with the CPython this build embeds. Runs in the
// embedding test process, whose main thread holds the GIL between tests.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "embed/gil_sampler.hpp"
#include "embed/gil_state.h"

namespace pyhost {
namespace {

// Every CPython pyhost is built against must have a verified GIL layout: a new version fails
// here (and `pyhost info` says "unsupported CPython X.Y layout") instead of its GIL timelines
// silently becoming estimates.
TEST(GilState, TheCPythonBuiltWithHasAVerifiedLayout) {
  if (pyhost_gil_free_threaded()) GTEST_SKIP() << "free-threaded CPython: no GIL";
  const GilSamplerSupport support = gil_sampler_support();
  EXPECT_EQ(pyhost_gil_state_status(), PYHOST_GIL_READABLE) << support.line;
  EXPECT_TRUE(support.reads_gil) << support.line;
  EXPECT_EQ(support.layout,
            std::to_string(PY_MAJOR_VERSION) + "." + std::to_string(PY_MINOR_VERSION));
  EXPECT_EQ(support.line, "reads the GIL (CPython " + support.layout + " layout)");
  EXPECT_NE(std::string(pyhost_gil_verified_versions()).find(support.layout), std::string::npos);
  EXPECT_EQ(pyhost_gil_library_version(), pyhost_gil_header_version());
}

TEST(GilState, SeesWhoHoldsTheGilAndCountsSwitches) {
  if (!pyhost_gil_state_supported()) GTEST_SKIP() << gil_sampler_support().line;
  PyThreadState* self = PyThreadState_Get();
  std::size_t size = 0;
  const void* gil = pyhost_gil_of(self, &size);
  ASSERT_NE(gil, nullptr);
  EXPECT_GE(size, 4 * sizeof(long));
  unsigned long before = 0;
  EXPECT_EQ(pyhost_gil_holder(gil, &before), self);

  // Another thread takes the GIL and keeps it until told: seen as the holder, not us.
  PyThreadState* other_state = nullptr;
  std::atomic<int> phase{0};
  PyThreadState* saved = PyEval_SaveThread();
  std::thread other([&] {
    PyGILState_STATE g = PyGILState_Ensure();
    other_state = PyThreadState_Get();
    phase = 1;
    while (phase.load() != 2) std::this_thread::yield();
    PyGILState_Release(g);
  });
  while (phase.load() != 1) std::this_thread::yield();
  unsigned long during = 0;
  PyThreadState* holder = pyhost_gil_holder(gil, &during);
  phase = 2;
  other.join();
  PyEval_RestoreThread(saved);
  EXPECT_EQ(holder, other_state);
  EXPECT_NE(holder, self);
  unsigned long after = 0;
  EXPECT_EQ(pyhost_gil_holder(gil, &after), self);
  // It went to the other thread and came back: two switches at least.
  EXPECT_GE(after - before, 2u);
  EXPECT_GE(during - before, 1u);
}

}  // namespace
}  // namespace pyhost
