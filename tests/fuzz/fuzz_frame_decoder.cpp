// libFuzzer target: the frame decoder and the payload decoders must reject any byte stream
// cleanly (ProtocolError) and never crash, hang or read out of bounds. Inputs are fed in pieces,
// as pipes deliver them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/protocol.hpp"

namespace {

// Every decoder on every payload: each either decodes it or throws ProtocolError.
void decode_payloads(std::string_view payload) {
  using namespace pyhost::proto;
  try {
    decode_hello(payload);
  } catch (const ProtocolError&) {
  }
  try {
    decode_run_task(payload);
  } catch (const ProtocolError&) {
  }
  try {
    decode_result(payload);
  } catch (const ProtocolError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pyhost::proto;
  FrameDecoder decoder;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first byte decides the piece size, so that splits across headers get explored.
  const std::size_t piece = size > 0 ? 1 + data[0] % 32 : 1;
  try {
    while (!input.empty()) {
      decoder.feed(input.substr(0, piece));
      input.remove_prefix(std::min(piece, input.size()));
      while (auto frame = decoder.next()) {
        // A decoded frame re-encodes to a valid frame of the same content.
        FrameDecoder again;
        again.feed(encode(*frame));
        auto copy = again.next();
        if (!copy || copy->payload != frame->payload || copy->type != frame->type) __builtin_trap();
        decode_payloads(frame->payload);
      }
    }
  } catch (const ProtocolError&) {
  }
  return 0;
}
