#include "protocol/protocol.hpp"

#include <fmt/format.h>

namespace pyhost::proto {
namespace {

void put_u16(std::string& out, std::uint16_t value) {
  out.push_back(static_cast<char>(value & 0xff));
  out.push_back(static_cast<char>(value >> 8));
}

void put_u32(std::string& out, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8)
    out.push_back(static_cast<char>((value >> shift) & 0xff));
}

std::uint32_t get_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return std::uint32_t(u[0]) | std::uint32_t(u[1]) << 8 | std::uint32_t(u[2]) << 16 |
         std::uint32_t(u[3]) << 24;
}

std::uint16_t get_u16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::uint16_t>(u[0] | u[1] << 8);
}

bool known_type(std::uint16_t type) {
  return type >= 1 && type <= 4;
}

}  // namespace

std::string_view to_string(FrameType type) {
  switch (type) {
    case FrameType::Hello:
      return "Hello";
    case FrameType::RunTask:
      return "RunTask";
    case FrameType::Result:
      return "Result";
    case FrameType::Shutdown:
      return "Shutdown";
  }
  return "?";
}

std::string encode(const Frame& frame) {
  if (frame.payload.size() > kMaxPayload)
    throw ProtocolError(fmt::format("frame payload of {} bytes exceeds the {} byte limit",
                                    frame.payload.size(), kMaxPayload));
  std::string out;
  out.reserve(kHeaderSize + frame.payload.size());
  put_u32(out, kMagic);
  put_u16(out, kVersion);
  put_u16(out, static_cast<std::uint16_t>(frame.type));
  put_u32(out, frame.task);
  put_u32(out, static_cast<std::uint32_t>(frame.payload.size()));
  out += frame.payload;
  return out;
}

void FrameDecoder::feed(std::string_view bytes) {
  // Drop what was consumed before growing, so a long stream does not accumulate.
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

std::optional<Frame> FrameDecoder::next() {
  if (failed_) throw ProtocolError("frame stream already failed");
  if (buffered() < kHeaderSize) return std::nullopt;
  const char* header = buffer_.data() + consumed_;
  const std::uint32_t magic = get_u32(header);
  const std::uint16_t version = get_u16(header + 4);
  const std::uint16_t type = get_u16(header + 6);
  const std::uint32_t task = get_u32(header + 8);
  const std::uint32_t length = get_u32(header + 12);
  auto fail = [this](std::string why) -> ProtocolError {
    failed_ = true;
    return ProtocolError("malformed frame: " + why);
  };
  if (magic != kMagic) throw fail(fmt::format("bad magic 0x{:08x}", magic));
  if (version != kVersion)
    throw fail(fmt::format("protocol version {} (this pyhost speaks {})", version, kVersion));
  if (!known_type(type)) throw fail(fmt::format("unknown frame type {}", type));
  if (length > kMaxPayload)
    throw fail(fmt::format("payload of {} bytes exceeds the {} byte limit", length, kMaxPayload));
  if (buffered() < kHeaderSize + length) return std::nullopt;
  Frame frame{static_cast<FrameType>(type), task, buffer_.substr(consumed_ + kHeaderSize, length)};
  consumed_ += kHeaderSize + length;
  return frame;
}

}  // namespace pyhost::proto
