// Turning a pending Python exception into a C++ exception with a readable message.
#pragma once

#include <stdexcept>
#include <string>

namespace pyhost {

class PythonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// CPython's initialisation asked for the process to exit with `code` (PyStatus_IsExit): thrown
// instead of exiting, so that an application embedding libpyhost decides (pyhost exits with it).
class PythonExit : public std::runtime_error {
 public:
  explicit PythonExit(int code)
      : std::runtime_error("Python asked to exit with status " + std::to_string(code)),
        code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// Fetches and clears the current interpreter's pending exception (GIL held) and returns
// "context: ExcType: message". Returns "context: unknown error" when none is pending.
std::string fetch_python_error(const std::string& context);

// Throws PythonError built by fetch_python_error().
[[noreturn]] void throw_python_error(const std::string& context);

}  // namespace pyhost
