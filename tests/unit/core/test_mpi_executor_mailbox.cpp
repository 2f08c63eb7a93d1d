// The mailbox between Python and a rank's communication thread (pyhost.Executor(mode="mpi")),
// without MPI: the test plays the communication thread.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "mpi/executor_mailbox.hpp"

namespace pyhost::mpi {
namespace {

using Clock = ExecutorMailbox::Clock;

TEST(MpiExecutorMailbox, PostingBeforeTheRunOpensItIsRefusedWithAReason) {
  ExecutorMailbox mailbox;
  std::string why;
  EXPECT_FALSE(mailbox.post(1, "x", &why));
  EXPECT_NE(why.find("not a rank"), std::string::npos) << why;
}

TEST(MpiExecutorMailbox, PostsGoOutInOrderAndWakeTheCommunicationThread) {
  ExecutorMailbox mailbox;
  int wakes = 0;
  mailbox.open(0, 3, [&] { ++wakes; });
  std::string why;
  EXPECT_TRUE(mailbox.post(2, "a", &why));
  EXPECT_TRUE(mailbox.post(1, "b", &why));
  EXPECT_EQ(wakes, 2);
  const auto letters = mailbox.take_outgoing();
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_EQ(letters[0].peer, 2);
  EXPECT_EQ(letters[0].bytes, "a");
  EXPECT_EQ(letters[1].peer, 1);
  EXPECT_TRUE(mailbox.take_outgoing().empty());
}

TEST(MpiExecutorMailbox, NoLetterToItselfOrToARankThatDoesNotExist) {
  ExecutorMailbox mailbox;
  mailbox.open(1, 3, [] {});
  std::string why;
  EXPECT_FALSE(mailbox.post(1, "x", &why));
  EXPECT_FALSE(mailbox.post(3, "x", &why));
  EXPECT_FALSE(mailbox.post(-1, "x", &why));
  EXPECT_NE(why.find("no such rank"), std::string::npos) << why;
  EXPECT_TRUE(mailbox.take_outgoing().empty());
}

TEST(MpiExecutorMailbox, ReceiveTimesOutThenGetsWhatArrives) {
  ExecutorMailbox mailbox;
  mailbox.open(0, 2, [] {});
  Letter letter;
  EXPECT_EQ(mailbox.receive(letter, Clock::now()), ExecutorMailbox::Received::Timeout);
  mailbox.deliver({1, "hello"});
  EXPECT_EQ(mailbox.receive(letter, Clock::now()), ExecutorMailbox::Received::Letter);
  EXPECT_EQ(letter.peer, 1);
  EXPECT_EQ(letter.bytes, "hello");
}

TEST(MpiExecutorMailbox, ABlockedReceiverGetsALetterFromAnotherThread) {
  ExecutorMailbox mailbox;
  mailbox.open(1, 2, [] {});
  std::thread comm([&] { mailbox.deliver({0, "call"}); });
  Letter letter;
  EXPECT_EQ(mailbox.receive(letter, std::nullopt), ExecutorMailbox::Received::Letter);
  EXPECT_EQ(letter.bytes, "call");
  comm.join();
}

TEST(MpiExecutorMailbox, ClosingDrainsWhatArrivedThenSaysClosedAndRefusesPosts) {
  ExecutorMailbox mailbox;
  mailbox.open(1, 2, [] {});
  mailbox.deliver({0, "last"});
  mailbox.close();
  Letter letter;
  EXPECT_EQ(mailbox.receive(letter, std::nullopt), ExecutorMailbox::Received::Letter);
  EXPECT_EQ(mailbox.receive(letter, std::nullopt), ExecutorMailbox::Received::Closed);
  std::string why;
  EXPECT_FALSE(mailbox.post(0, "late", &why));
  EXPECT_NE(why.find("ended"), std::string::npos) << why;
}

TEST(MpiExecutorMailbox, CloseWakesAReceiverWaitingWithoutDeadline) {
  ExecutorMailbox mailbox;
  mailbox.open(1, 2, [] {});
  std::atomic<int> got{-1};
  std::thread server([&] {
    Letter letter;
    got = static_cast<int>(mailbox.receive(letter, std::nullopt));
  });
  mailbox.close();
  server.join();
  EXPECT_EQ(got.load(), static_cast<int>(ExecutorMailbox::Received::Closed));
}

}  // namespace
}  // namespace pyhost::mpi
