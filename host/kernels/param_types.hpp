// The element types of kernel parameters as the native engine sees them (plain C++): the
// scalar types of pyhost/_kernels/types.py, with their buffer formats and value ranges.
#pragma once

#include <string>

namespace pyhost::kernels {

struct DType {
  const char* name;
  char format;       // buffer format named in messages
  const char* also;  // other accepted formats of the same size
  int itemsize;
  bool is_float;
  bool is_signed;
  bool is_bool;
};

inline constexpr DType kDTypes[] = {
    {"f32", 'f', "", 4, true, true, false},      {"f64", 'd', "", 8, true, true, false},
    {"i32", 'i', "", 4, false, true, false},     {"i64", 'l', "q", 8, false, true, false},
    {"u32", 'I', "", 4, false, false, false},    {"u8", 'B', "", 1, false, false, false},
    {"boolean", '?', "", 1, false, false, true},
};

inline const DType* find_dtype(const std::string& name) {
  for (const auto& d : kDTypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

// One kernel parameter: a scalar (ndim 0) or a C-contiguous array of 1 to 3 dimensions.
struct ParamSpec {
  std::string name;
  const DType* dtype = nullptr;
  int ndim = 0;
  bool writable = false;

  std::string type_name() const {
    if (ndim == 0) return dtype->name;
    std::string s = std::string(dtype->name) + "[:";
    for (int i = 1; i < ndim; ++i) s += ", :";
    return s + "]";
  }
};

}  // namespace pyhost::kernels
