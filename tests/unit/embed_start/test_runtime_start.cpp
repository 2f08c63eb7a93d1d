// Starting the embedded runtime when things are wrong: a process of its own (no PythonRuntime
// is created up front, as tests/unit/embed does), since these tests start and finalise CPython.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "pyhost/interpreter.hpp"

namespace fs = std::filesystem;

namespace pyhost {
namespace {

struct ScopedEnv {
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_.empty())
      ::unsetenv(name_);
    else
      ::setenv(name_, old_.c_str(), 1);
  }
  const char* name_;
  std::string old_;
};

fs::path temp_dir(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("pyhost-embed-start-" + std::to_string(::getpid())) / name;
  fs::create_directories(dir);
  return dir;
}

// A venv whose pyvenv.cfg says `version =` with no value: ignored with a warning, not a crash
// (std::out_of_range from substr(npos) before).
TEST(DescribePython, VersionLineWithoutValueIsIgnored) {
  const fs::path venv = temp_dir("venv-empty-version");
  std::ofstream(venv / "pyvenv.cfg")
      << "home = /usr/bin\nversion =\ninclude-system-site-packages = false\n";
  ScopedEnv env("VIRTUAL_ENV", venv.string());
  PythonInfo info;
  ASSERT_NO_THROW(info = describe_python());
  EXPECT_EQ(info.venv, "");  // not taken: it names no version
}

TEST(DescribePython, VersionWithSpacesAndCarriageReturnIsRead) {
  const fs::path venv = temp_dir("venv-crlf");
  fs::create_directories(venv / "lib" / "python0.0");
  std::ofstream(venv / "pyvenv.cfg") << "version =  0.0.1 \r\n";
  ScopedEnv env("VIRTUAL_ENV", venv.string());
  // Another version than the embedded one: ignored, but read (no exception, no venv).
  EXPECT_EQ(describe_python().venv, "");
}

// A runtime that cannot be completed leaves nothing behind: no active() runtime pointing at a
// destroyed object, no initialised CPython, so that a second try can succeed.
TEST(PythonRuntime, FailedStartLeavesNoRuntimeAndCanBeRetried) {
  {
    ScopedEnv env("PYHOST_RUNTIME_DIR", temp_dir("no-runtime-here").string());
    try {
      PythonRuntime runtime;
      FAIL() << "a runtime directory without the pyhost package was accepted";
    } catch (const std::runtime_error& error) {
      EXPECT_NE(std::string(error.what()).find("has no pyhost package"), std::string::npos)
          << error.what();
    }
    EXPECT_EQ(PythonRuntime::active(), nullptr);
    EXPECT_FALSE(Py_IsInitialized());
  }
  PythonRuntime runtime;  // the real runtime directory
  EXPECT_EQ(PythonRuntime::active(), &runtime);
  EXPECT_TRUE(Py_IsInitialized());
  EXPECT_EQ(runtime.finalize(), 0);
}

}  // namespace
}  // namespace pyhost
