#include <gtest/gtest.h>

#include "protocol/protocol.hpp"

namespace pyhost::proto {
namespace {

TEST(Protocol, RoundTripsFramesFedByteByByte) {
  std::string stream = encode({FrameType::Hello, 0, R"({"version":1})"}) +
                       encode({FrameType::RunTask, 7, std::string(100000, 'x')}) +
                       encode({FrameType::Shutdown, 0, ""});
  FrameDecoder decoder;
  std::vector<Frame> frames;
  for (char byte : stream) {
    decoder.feed(std::string_view(&byte, 1));
    while (auto frame = decoder.next()) frames.push_back(std::move(*frame));
  }
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].type, FrameType::Hello);
  EXPECT_EQ(frames[0].payload, R"({"version":1})");
  EXPECT_EQ(frames[1].type, FrameType::RunTask);
  EXPECT_EQ(frames[1].task, 7u);
  EXPECT_EQ(frames[1].payload.size(), 100000u);
  EXPECT_EQ(frames[2].type, FrameType::Shutdown);
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(Protocol, HeaderIsLittleEndianWithMagicAndVersion) {
  std::string bytes = encode({FrameType::Result, 0x01020304, "ab"});
  ASSERT_EQ(bytes.size(), kHeaderSize + 2);
  EXPECT_EQ(bytes.substr(0, 4), "PYHW");
  EXPECT_EQ(static_cast<unsigned char>(bytes[4]), kVersion);
  EXPECT_EQ(static_cast<unsigned char>(bytes[6]), static_cast<unsigned>(FrameType::Result));
  EXPECT_EQ(static_cast<unsigned char>(bytes[8]), 0x04);
  EXPECT_EQ(static_cast<unsigned char>(bytes[12]), 2);
}

std::string error_for(std::string bytes) {
  FrameDecoder decoder;
  decoder.feed(bytes);
  try {
    decoder.next();
  } catch (const ProtocolError& error) {
    return error.what();
  }
  return "";
}

TEST(Protocol, RejectsMalformedFramesSayingWhy) {
  std::string good = encode({FrameType::Hello, 0, "{}"});
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  EXPECT_NE(error_for(bad_magic).find("bad magic"), std::string::npos);
  std::string bad_version = good;
  bad_version[4] = 9;
  EXPECT_NE(error_for(bad_version).find("protocol version 9"), std::string::npos);
  std::string bad_type = good;
  bad_type[6] = 42;
  EXPECT_NE(error_for(bad_type).find("unknown frame type 42"), std::string::npos);
  std::string too_long = good.substr(0, 12) + std::string("\xff\xff\xff\x7f", 4);
  EXPECT_NE(error_for(too_long).find("exceeds"), std::string::npos);
}

TEST(Protocol, AFailedStreamStaysFailed) {
  FrameDecoder decoder;
  decoder.feed(std::string(kHeaderSize, 'z'));
  EXPECT_THROW(decoder.next(), ProtocolError);
  decoder.feed(encode({FrameType::Hello, 0, ""}));
  EXPECT_THROW(decoder.next(), ProtocolError);
}

TEST(Protocol, IncompleteFrameWaitsForMoreBytes) {
  std::string bytes = encode({FrameType::RunTask, 1, "payload"});
  FrameDecoder decoder;
  decoder.feed(bytes.substr(0, bytes.size() - 1));
  EXPECT_FALSE(decoder.next());
  decoder.feed(bytes.substr(bytes.size() - 1));
  auto frame = decoder.next();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->payload, "payload");
}

TEST(Protocol, EncodeRefusesOversizedPayloads) {
  EXPECT_THROW(encode({FrameType::RunTask, 0, std::string(kMaxPayload + 1, 'a')}), ProtocolError);
}

}  // namespace
}  // namespace pyhost::proto
