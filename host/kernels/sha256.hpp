// SHA-256 (FIPS 180-4) for cache keys and payload checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pyhost::kernels {

class Sha256 {
 public:
  Sha256();
  Sha256& update(const void* data, std::size_t size);
  Sha256& update(std::string_view text) { return update(text.data(), text.size()); }
  // Separates fields so that ("ab", "c") and ("a", "bc") hash differently.
  Sha256& field(std::string_view text);
  std::string hex();  // finishes: the hash as 64 lowercase hex digits

 private:
  void block(const std::uint8_t* p);
  std::uint32_t h_[8];
  std::uint8_t buf_[64];
  std::size_t used_ = 0;
  std::uint64_t total_ = 0;
};

std::string sha256_hex(std::string_view data);

}  // namespace pyhost::kernels
