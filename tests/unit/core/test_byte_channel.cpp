#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "channel/byte_channel.hpp"

namespace pyhost {
namespace {

using namespace std::chrono_literals;

ChannelMessage message(int tag, std::string data) {
  return ChannelMessage{tag, std::move(data)};
}

ByteChannel::Deadline in(std::chrono::milliseconds ms) {
  return ByteChannel::Clock::now() + ms;
}

TEST(ByteChannel, KeepsOrderAndTags) {
  ByteChannel channel(0);
  for (int i = 0; i < 5; ++i) {
    auto m = message(i % 2, "item" + std::to_string(i));
    ASSERT_EQ(channel.put(m, std::nullopt), ChannelStatus::Ok);
  }
  EXPECT_EQ(channel.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    ChannelMessage out;
    ASSERT_EQ(channel.get(out, std::nullopt), ChannelStatus::Ok);
    EXPECT_EQ(out.tag, i % 2);
    EXPECT_EQ(out.data, "item" + std::to_string(i));
  }
}

TEST(ByteChannel, GetTimesOutWhenEmpty) {
  ByteChannel channel(0);
  ChannelMessage out;
  EXPECT_EQ(channel.get(out, in(10ms)), ChannelStatus::Timeout);
}

TEST(ByteChannel, BoundedPutTimesOutAndKeepsTheMessage) {
  ByteChannel channel(1);
  auto first = message(0, "a");
  ASSERT_EQ(channel.put(first, std::nullopt), ChannelStatus::Ok);
  auto second = message(0, "b");
  EXPECT_EQ(channel.put(second, in(10ms)), ChannelStatus::Timeout);
  EXPECT_EQ(second.data, "b");  // not moved from: the caller may retry
  ChannelMessage out;
  ASSERT_EQ(channel.get(out, std::nullopt), ChannelStatus::Ok);
  EXPECT_EQ(channel.put(second, in(10ms)), ChannelStatus::Ok);
}

TEST(ByteChannel, BlockedPutResumesWhenAGetMakesRoom) {
  ByteChannel channel(1);
  auto first = message(0, "a");
  ASSERT_EQ(channel.put(first, std::nullopt), ChannelStatus::Ok);
  std::thread producer([&] {
    auto m = message(0, "b");
    EXPECT_EQ(channel.put(m, std::nullopt), ChannelStatus::Ok);
  });
  ChannelMessage out;
  ASSERT_EQ(channel.get(out, std::nullopt), ChannelStatus::Ok);
  EXPECT_EQ(out.data, "a");
  ASSERT_EQ(channel.get(out, std::nullopt), ChannelStatus::Ok);
  EXPECT_EQ(out.data, "b");
  producer.join();
}

TEST(ByteChannel, CloseDrainsThenReportsClosedAndWakesWaiters) {
  ByteChannel channel(0);
  auto m = message(0, "last");
  ASSERT_EQ(channel.put(m, std::nullopt), ChannelStatus::Ok);
  std::atomic<int> woken{0};
  ByteChannel empty(0);
  std::thread waiter([&] {
    ChannelMessage out;
    if (empty.get(out, std::nullopt) == ChannelStatus::Closed) ++woken;
  });
  empty.close();
  waiter.join();
  EXPECT_EQ(woken.load(), 1);

  channel.close();
  auto late = message(0, "late");
  EXPECT_EQ(channel.put(late, std::nullopt), ChannelStatus::Closed);
  ChannelMessage out;
  ASSERT_EQ(channel.get(out, std::nullopt), ChannelStatus::Ok);
  EXPECT_EQ(out.data, "last");
  EXPECT_EQ(channel.get(out, std::nullopt), ChannelStatus::Closed);
}

TEST(ByteChannel, ManyProducersAndConsumersLoseNothing) {
  ByteChannel channel(8);
  constexpr int kProducers = 4, kPerProducer = 2000, kConsumers = 3;
  std::atomic<long> sum{0};
  std::atomic<int> count{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p)
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        auto m = message(0, std::to_string(p * kPerProducer + i));
        ASSERT_EQ(channel.put(m, std::nullopt), ChannelStatus::Ok);
      }
    });
  std::vector<std::thread> consumers;
  for (int c = 0; c < kConsumers; ++c)
    consumers.emplace_back([&] {
      ChannelMessage out;
      while (channel.get(out, std::nullopt) == ChannelStatus::Ok) {
        sum += std::stol(out.data);
        ++count;
      }
    });
  for (auto& t : threads) t.join();
  channel.close();
  for (auto& t : consumers) t.join();
  const long n = kProducers * kPerProducer;
  EXPECT_EQ(count.load(), n);
  EXPECT_EQ(sum.load(), n * (n - 1) / 2);
}

TEST(ChannelRegistry, ReferenceCountedAndClosedOnLastRelease) {
  ChannelRegistry& registry = ChannelRegistry::instance();
  const auto id = registry.create(0);
  auto channel = registry.find(id);
  ASSERT_TRUE(channel);
  EXPECT_TRUE(registry.retain(id));
  registry.release(id);
  EXPECT_TRUE(registry.find(id));
  registry.release(id);
  EXPECT_FALSE(registry.find(id));
  EXPECT_FALSE(registry.retain(id));
  EXPECT_TRUE(channel->closed());  // a holder blocked on it is woken, not stranded
  EXPECT_FALSE(registry.find(987654321));
}

}  // namespace
}  // namespace pyhost
