// KernelBuilder without Python: the key, the in-memory map, the disk cache and the statistics,
// with a stand-in compiler; then the real CPU toolchain and the thread pool's batch-sized chunks.
#include "kernels/kernel_builder.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "kernels/cpu_compiler.hpp"
#include "kernels/kernel_cache.hpp"
#include "kernels/shared_library.hpp"
#include "kernels/thread_pool.hpp"
#include "kernels/toolchains.hpp"

namespace fs = std::filesystem;
using namespace pyhost::kernels;

namespace {

struct TempCache {
  fs::path dir;
  TempCache() {
    std::string tmpl = (fs::temp_directory_path() / "pyhost-builder-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
    dir = tmpl;
  }
  ~TempCache() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::vector<fs::path> files() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
    return out;
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A compiler that writes "image of <source>" and counts its runs; "fail" makes it fail.
struct FakeCompiler {
  int runs = 0;
  Toolchain toolchain(const std::string& flags = "-O2") {
    Toolchain tc;
    tc.kind = "test";
    tc.payload = "img";
    tc.arch = "fake-arch";
    tc.identity = {"fake-cc 1.0", flags};
    tc.compile = [this](const std::string& source, const std::string&, const fs::path& out) {
      ++runs;
      if (source == "fail") throw std::runtime_error("fake-cc: error: bad kernel");
      std::ofstream(out, std::ios::binary) << "image of " << source;
    };
    return tc;
  }
};

LoadedImage load_text(const fs::path& p) {
  return std::make_shared<std::string>(slurp(p));
}

std::string text_of(const LoadedImage& image) {
  return *static_cast<std::string*>(image.get());
}

BuildStats delta(const BuildStats& before) {
  BuildStats now = KernelBuilder::stats();
  return {now.compiles - before.compiles, now.disk_hits - before.disk_hits,
          now.memory_hits - before.memory_hits, now.rejected_entries - before.rejected_entries};
}

}  // namespace

TEST(KernelBuilder, CompilesOnceThenServesFromMemoryThenFromDisk) {
  TempCache cache;
  FakeCompiler cc;
  KernelBuilder builder(cache.dir);
  const BuildStats before = KernelBuilder::stats();
  std::string warning;

  LoadedImage first = builder.build(cc.toolchain(), "k", "src A", load_text, &warning);
  EXPECT_EQ(text_of(first), "image of src A");
  EXPECT_EQ(cc.runs, 1);

  LoadedImage again = builder.build(cc.toolchain(), "k", "src A", load_text, &warning);
  EXPECT_EQ(again.get(), first.get()) << "a loaded image is shared, not loaded twice";
  EXPECT_EQ(cc.runs, 1);

  first.reset();
  again.reset();
  KernelBuilder::forget_loaded();
  LoadedImage from_disk = builder.build(cc.toolchain(), "k", "src A", load_text, &warning);
  EXPECT_EQ(text_of(from_disk), "image of src A");
  EXPECT_EQ(cc.runs, 1) << "the disk cache answered";

  const BuildStats d = delta(before);
  EXPECT_EQ(d.compiles, 1);
  EXPECT_EQ(d.memory_hits, 1);
  EXPECT_EQ(d.disk_hits, 1);
  EXPECT_EQ(d.rejected_entries, 0);
  EXPECT_TRUE(warning.empty());
}

TEST(KernelBuilder, KeyCoversSourceToolchainAndFlags) {
  FakeCompiler cc;
  const std::string base = KernelBuilder::key_of(cc.toolchain(), "src");
  EXPECT_EQ(base, KernelBuilder::key_of(cc.toolchain(), "src"));
  EXPECT_NE(base, KernelBuilder::key_of(cc.toolchain(), "src "));
  EXPECT_NE(base, KernelBuilder::key_of(cc.toolchain("-O3"), "src"));
  Toolchain other_arch = cc.toolchain();
  other_arch.arch = "another-cpu";
  EXPECT_NE(base, KernelBuilder::key_of(other_arch, "src"));
  Toolchain other_kind = cc.toolchain();
  other_kind.kind = "cuda";
  EXPECT_NE(base, KernelBuilder::key_of(other_kind, "src"));
}

TEST(KernelBuilder, DifferentFlagsCompileAgain) {
  TempCache cache;
  FakeCompiler cc;
  KernelBuilder builder(cache.dir);
  LoadedImage a = builder.build(cc.toolchain("-O2"), "k", "same", load_text, nullptr);
  LoadedImage b = builder.build(cc.toolchain("-O3"), "k", "same", load_text, nullptr);
  EXPECT_EQ(cc.runs, 2);
  EXPECT_NE(a.get(), b.get());
}

TEST(KernelBuilder, DamagedCacheEntryIsRejectedAndRebuilt) {
  TempCache cache;
  FakeCompiler cc;
  KernelBuilder builder(cache.dir);
  const Toolchain tc = cc.toolchain();
  builder.build(tc, "k", "src D", load_text, nullptr);
  KernelBuilder::forget_loaded();
  const fs::path payload = cache.dir / (KernelBuilder::key_of(tc, "src D") + ".img");
  ASSERT_TRUE(fs::exists(payload));
  std::ofstream(payload, std::ios::binary | std::ios::app) << "tampered";

  const BuildStats before = KernelBuilder::stats();
  std::string warning;
  LoadedImage image = builder.build(tc, "k", "src D", load_text, &warning);
  EXPECT_EQ(text_of(image), "image of src D");
  EXPECT_EQ(cc.runs, 2);
  EXPECT_EQ(delta(before).rejected_entries, 1);
  EXPECT_NE(warning.find("ignored a kernel cache entry"), std::string::npos) << warning;
}

TEST(KernelBuilder, WithoutCacheEveryProcessCompiles) {
  FakeCompiler cc;
  KernelBuilder builder{fs::path()};
  LoadedImage image = builder.build(cc.toolchain(), "k", "no cache", load_text, nullptr);
  EXPECT_EQ(text_of(image), "image of no cache");
  image.reset();
  KernelBuilder::forget_loaded();
  builder.build(cc.toolchain(), "k", "no cache", load_text, nullptr);
  EXPECT_EQ(cc.runs, 2);
}

TEST(KernelBuilder, CompileErrorPropagatesAndLeavesNothingBehind) {
  TempCache cache;
  FakeCompiler cc;
  KernelBuilder builder(cache.dir);
  try {
    builder.build(cc.toolchain(), "k", "fail", load_text, nullptr);
    FAIL() << "expected the compiler's error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad kernel"), std::string::npos);
  }
  EXPECT_TRUE(cache.files().empty());
}

TEST(CpuToolchain, BuildsAndLoadsASharedObjectForThisCpu) {
  if (!cpu_compiler().found) GTEST_SKIP() << cpu_compiler().problem;
  TempCache cache;
  const Toolchain tc = cpu_toolchain();
  EXPECT_EQ(tc.payload, "so");
  // -march=native is in the flags, so what it means on this CPU is in the key.
  EXPECT_FALSE(cpu_compiler().native_target.empty());
  EXPECT_NE(std::find(tc.identity.begin(), tc.identity.end(), cpu_compiler().native_target),
            tc.identity.end());
  KernelBuilder builder(cache.dir);
  LoadedImage image = builder.build(tc, "answer", "extern \"C\" int ph_answer() { return 42; }\n",
                                    load_cpu_image, nullptr);
  auto* lib = static_cast<SharedLibrary*>(image.get());
  auto fn = reinterpret_cast<int (*)()>(lib->symbol("ph_answer"));
  ASSERT_NE(fn, nullptr);
  EXPECT_EQ(fn(), 42);
}

TEST(CpuToolchain, CompilerErrorsComeBackAsText) {
  if (!cpu_compiler().found) GTEST_SKIP() << cpu_compiler().problem;
  TempCache cache;
  KernelBuilder builder(cache.dir);
  try {
    builder.build(cpu_toolchain(), "broken", "this is not C++\n", load_cpu_image, nullptr);
    FAIL() << "expected a compile error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("failed with exit code"), std::string::npos) << e.what();
  }
}

TEST(ThreadPool, ChunksAreWholeBatches) {
  ThreadPool& pool = ThreadPool::instance();
  pool.set_threads(2);
  std::mutex mu;
  std::vector<std::pair<std::int64_t, std::int64_t>> chunks;
  pool.parallel_for(
      1000,
      [&](std::int64_t b, std::int64_t e) {
        std::lock_guard<std::mutex> lock(mu);
        chunks.emplace_back(b, e);
      },
      16);
  pool.set_threads(0);
  std::sort(chunks.begin(), chunks.end());
  std::int64_t next = 0;
  for (const auto& [b, e] : chunks) {
    EXPECT_EQ(b, next);
    EXPECT_EQ(b % 16, 0);
    if (e != 1000) {
      EXPECT_EQ((e - b) % 16, 0);
    }
    next = e;
  }
  EXPECT_EQ(next, 1000);
}

TEST(ThreadPool, SmallLaunchesRunOnTheCallingThreadAlone) {
  ThreadPool& pool = ThreadPool::instance();
  pool.set_threads(2);
  WorkEstimate estimate;
  std::mutex mu;
  std::vector<std::pair<std::int64_t, std::int64_t>> chunks;
  std::vector<std::thread::id> threads;
  auto fn = [&](std::int64_t b, std::int64_t e) {
    std::lock_guard<std::mutex> lock(mu);
    chunks.emplace_back(b, e);
    threads.push_back(std::this_thread::get_id());
  };
  EXPECT_FALSE(estimate.measured());
  EXPECT_FALSE(estimate.small(1));  // not measured yet: the helpers may join
  pool.parallel_for(1000, fn, 16, &estimate);
  EXPECT_TRUE(estimate.measured());  // every launch with an estimate updates it
  // 1 ns per index: a thousand indices are 1 us of work, a million 1 ms.
  estimate.record(1000, 1000);
  EXPECT_TRUE(estimate.small(1000));
  EXPECT_FALSE(estimate.small(1000000));
  chunks.clear();
  threads.clear();
  pool.parallel_for(1000, fn, 16, &estimate);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0], std::make_pair(std::int64_t{0}, std::int64_t{1000}));
  EXPECT_EQ(threads[0], std::this_thread::get_id());
  pool.set_threads(0);
}
