#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "output/output_mux.hpp"

namespace pyhost {
namespace {

// A pipe whose read end is drained into a string on a thread, so writers never block.
class CapturedFd {
 public:
  CapturedFd() {
    EXPECT_EQ(::pipe(fds_), 0);
    reader_ = std::thread([this] {
      char buffer[4096];
      ssize_t n;
      while ((n = ::read(fds_[0], buffer, sizeof buffer)) > 0) text_.append(buffer, n);
    });
  }
  ~CapturedFd() {
    if (fds_[1] >= 0) close_and_read();
    ::close(fds_[0]);
  }
  int fd() const { return fds_[1]; }
  std::string close_and_read() {
    ::close(fds_[1]);
    fds_[1] = -1;
    reader_.join();
    return text_;
  }

 private:
  int fds_[2]{-1, -1};
  std::thread reader_;
  std::string text_;
};

OutputMux::Options options(OutputStyle style, int out, int err, bool tag = true) {
  OutputMux::Options o;
  o.style = style;
  o.tag = tag;
  o.out_fd = out;
  o.err_fd = err;
  return o;
}

TEST(OutputMux, PrefixedEmitsWholeTaggedLines) {
  CapturedFd out, err;
  OutputMux mux(options(OutputStyle::Prefixed, out.fd(), err.fd()));
  mux.write(3, StreamId::Out, "hel");
  mux.write(3, StreamId::Out, "lo\nwor");
  mux.write(4, StreamId::Err, "oops\n");
  mux.write(3, StreamId::Out, "ld\n");
  mux.finish_task(3);
  mux.finish_task(4);
  EXPECT_EQ(out.close_and_read(), "[task 3] hello\n[task 3] world\n");
  EXPECT_EQ(err.close_and_read(), "[task 4] oops\n");
}

TEST(OutputMux, UnterminatedLineIsCompletedAtFinish) {
  CapturedFd out, err;
  OutputMux mux(options(OutputStyle::Prefixed, out.fd(), err.fd()));
  mux.write(0, StreamId::Out, "partial");
  mux.finish_task(0);
  EXPECT_EQ(out.close_and_read(), "[task 0] partial\n");
}

TEST(OutputMux, GroupedHoldsLinesUntilTheTaskEnds) {
  CapturedFd out, err;
  OutputMux mux(options(OutputStyle::Grouped, out.fd(), err.fd()));
  mux.write(1, StreamId::Out, "a1\n");
  mux.write(2, StreamId::Out, "b1\n");
  mux.write(1, StreamId::Out, "a2\n");
  mux.finish_task(2);
  mux.write(1, StreamId::Out, "a3");
  mux.finish_task(1);
  EXPECT_EQ(out.close_and_read(), "[task 2] b1\n[task 1] a1\n[task 1] a2\n[task 1] a3\n");
}

TEST(OutputMux, PassthroughWritesBytesAsTheyCome) {
  CapturedFd out, err;
  OutputMux mux(options(OutputStyle::Passthrough, out.fd(), err.fd(), /*tag=*/false));
  mux.write(0, StreamId::Out, "no newline yet");
  mux.write(0, StreamId::Out, ", now\n");
  mux.finish_task(0);
  EXPECT_EQ(out.close_and_read(), "no newline yet, now\n");
}

TEST(OutputMux, RecordsPerTaskAndTruncatesAtTheLimit) {
  CapturedFd out, err;
  auto o = options(OutputStyle::Prefixed, out.fd(), err.fd());
  o.record_limit = 8;
  OutputMux mux(o);
  mux.write(0, StreamId::Out, "12345\n");
  mux.write(0, StreamId::Out, "67890\n");
  mux.write(0, StreamId::Err, "e\n");
  mux.finish_task(0);
  CapturedOutput recorded = mux.take_recorded(0);
  EXPECT_EQ(recorded.out, "12345\n67");
  EXPECT_TRUE(recorded.out_truncated);
  EXPECT_EQ(recorded.err, "e\n");
  EXPECT_FALSE(recorded.err_truncated);
  EXPECT_EQ(mux.take_recorded(0).out, "");  // taken once
}

TEST(OutputMux, ConcurrentWritersNeverCutALine) {
  CapturedFd out, err;
  OutputMux mux(options(OutputStyle::Prefixed, out.fd(), err.fd()));
  constexpr int kTasks = 4, kLines = 500;
  std::vector<std::thread> writers;
  for (int task = 0; task < kTasks; ++task) {
    writers.emplace_back([&mux, task] {
      const std::string body(37, static_cast<char>('a' + task));
      for (int i = 0; i < kLines; ++i) {
        // Pieces of a line arrive separately, as print() sends them.
        mux.write(task, StreamId::Out, body.substr(0, 10));
        mux.write(task, StreamId::Out, body.substr(10));
        mux.write(task, StreamId::Out, "\n");
      }
      mux.finish_task(task);
    });
  }
  for (auto& writer : writers) writer.join();
  std::string text = out.close_and_read();
  int count[kTasks] = {};
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    ASSERT_NE(end, std::string::npos);
    std::string line = text.substr(pos, end - pos);
    int task = line[6] - '0';
    ASSERT_GE(task, 0);
    ASSERT_LT(task, kTasks);
    EXPECT_EQ(line, "[task " + std::to_string(task) + "] " + std::string(37, 'a' + task));
    ++count[task];
    pos = end + 1;
  }
  for (int task = 0; task < kTasks; ++task) EXPECT_EQ(count[task], kLines);
}

TEST(OutputMux, ClosedReaderDoesNotCrashTheWriter) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  OutputMux mux(options(OutputStyle::Prefixed, fds[1], fds[1]));
  signal(SIGPIPE, SIG_IGN);
  mux.write(0, StreamId::Out, "into the void\n");
  mux.finish_task(0);
  ::close(fds[1]);
  SUCCEED();
}

// The writer learns that nobody reads (to raise BrokenPipeError), from then on and whatever the
// style, while the output is still recorded (--json).
TEST(OutputMux, WriteSaysWhenTheReaderIsGone) {
  signal(SIGPIPE, SIG_IGN);
  for (OutputStyle style : {OutputStyle::Passthrough, OutputStyle::Prefixed, OutputStyle::Grouped}) {
    int out[2], err[2];
    ASSERT_EQ(::pipe(out), 0);
    ASSERT_EQ(::pipe(err), 0);
    OutputMux mux(options(style, out[1], err[1]));
    EXPECT_TRUE(mux.write(0, StreamId::Out, "read\n"));
    ::close(out[0]);
    // An unfinished line is held (and its write succeeds), except in passthrough.
    EXPECT_EQ(mux.write(0, StreamId::Out, "partial"), style != OutputStyle::Passthrough);
    mux.finish_task(0);  // grouped: the first write to the closed pipe
    mux.write(1, StreamId::Out, "lost\n");
    mux.finish_task(1);
    EXPECT_TRUE(mux.reader_gone(StreamId::Out));
    EXPECT_FALSE(mux.write(1, StreamId::Out, "x"));
    EXPECT_FALSE(mux.reader_gone(StreamId::Err));
    EXPECT_TRUE(mux.write(1, StreamId::Err, "still read\n"));
    EXPECT_EQ(mux.take_recorded(1).out, "lost\nx");
    ::close(out[1]);
    ::close(err[0]);
    ::close(err[1]);
  }
}

}  // namespace
}  // namespace pyhost
