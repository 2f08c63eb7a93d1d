// Turning a pending Python exception into a C++ exception with a readable message.
#pragma once

#include <stdexcept>
#include <string>

namespace pyhost {

class PythonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Fetches and clears the current interpreter's pending exception (GIL held) and returns
// "context: ExcType: message". Returns "context: unknown error" when none is pending.
std::string fetch_python_error(const std::string& context);

// Throws PythonError built by fetch_python_error().
[[noreturn]] void throw_python_error(const std::string& context);

}  // namespace pyhost
