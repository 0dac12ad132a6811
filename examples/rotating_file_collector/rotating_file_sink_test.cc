// RotatingFileSink: rotation by size, order and completeness across files, numbering
// across restarts, pruning, and the Sink contract's status codes.
#include "examples/rotating_file_collector/rotating_file_sink.h"

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "examples/testing/run_program.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/plugins.pb.h"

namespace rotating_file {
namespace {

using ::testing::HasSubstr;

plugins::Log MakeLog(int i) {
  plugins::Log log;
  log.set_id(absl::StrCat("id-", i));
  log.set_datatype("azure");
  log.set_raw(absl::StrCat("{\"n\":", i, ",\"pad\":\"", std::string(100, 'x'), "\"}"));
  return log;
}

class RotatingFileSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(std::getenv("TEST_TMPDIR"), "/",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }

  RotatingFileSinkOptions Options(uint64_t max_bytes) const {
    RotatingFileSinkOptions options;
    options.directory = dir_;
    options.max_file_bytes = max_bytes;
    return options;
  }

  std::vector<std::pair<uint64_t, std::string>> Files() const {
    return *RotatingFileSink::ListFiles(dir_, "events");
  }

  std::string dir_;
};

TEST_F(RotatingFileSinkTest, RotatesBySizeAndKeepsEveryLineInOrder) {
  auto sink = RotatingFileSink::Open(Options(1000));
  ASSERT_TRUE(sink.ok()) << sink.status();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE((*sink)->Send(MakeLog(i), absl::InfiniteFuture()).ok());
  ASSERT_TRUE((*sink)->Flush(absl::InfiniteFuture()).ok());
  ASSERT_TRUE((*sink)->Close(absl::InfiniteFuture()).ok());

  std::vector<std::pair<uint64_t, std::string>> files = Files();
  ASSERT_GE(files.size(), 5u);
  EXPECT_EQ((*sink)->files_opened(), files.size());
  EXPECT_EQ(files[0].second, dir_ + "/events-000001.jsonl");
  int next = 0;
  uint64_t expected_number = 1;
  for (const auto& [number, path] : files) {
    EXPECT_EQ(number, expected_number++);
    const std::string text = examples_testing::ReadFile(path);
    EXPECT_LE(text.size(), 1000u) << path;
    for (const std::string& line : examples_testing::Lines(text)) {
      EXPECT_THAT(line, HasSubstr(absl::StrCat("\"id\":\"id-", next, "\""))) << path;
      ++next;
    }
  }
  EXPECT_EQ(next, 50);
  EXPECT_EQ((*sink)->lines(), 50u);
}

TEST_F(RotatingFileSinkTest, ALineLargerThanTheLimitGetsAFileOfItsOwn) {
  auto sink = RotatingFileSink::Open(Options(100));
  ASSERT_TRUE(sink.ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*sink)->Send(MakeLog(i), absl::InfiniteFuture()).ok());
  ASSERT_TRUE((*sink)->Close(absl::InfiniteFuture()).ok());
  std::vector<std::pair<uint64_t, std::string>> files = Files();
  ASSERT_EQ(files.size(), 3u);
  for (const auto& file : files) {
    EXPECT_EQ(examples_testing::Lines(examples_testing::ReadFile(file.second)).size(), 1u);
  }
}

TEST_F(RotatingFileSinkTest, ARestartContinuesTheNumberingAndNeverAppends) {
  {
    auto sink = RotatingFileSink::Open(Options(1 << 20));
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Send(MakeLog(1), absl::InfiniteFuture()).ok());
  }  // the destructor closes
  const std::string first = examples_testing::ReadFile(dir_ + "/events-000001.jsonl");
  ASSERT_FALSE(first.empty());
  auto sink = RotatingFileSink::Open(Options(1 << 20));
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Send(MakeLog(2), absl::InfiniteFuture()).ok());
  ASSERT_TRUE((*sink)->Flush(absl::InfiniteFuture()).ok());
  EXPECT_EQ(examples_testing::ReadFile(dir_ + "/events-000001.jsonl"), first);
  EXPECT_THAT(examples_testing::ReadFile(dir_ + "/events-000002.jsonl"),
              HasSubstr("\"id\":\"id-2\""));
}

TEST_F(RotatingFileSinkTest, NoLinesNoFile) {
  auto sink = RotatingFileSink::Open(Options(1000));
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Flush(absl::InfiniteFuture()).ok());
  ASSERT_TRUE((*sink)->Close(absl::InfiniteFuture()).ok());
  EXPECT_TRUE(Files().empty());
}

TEST_F(RotatingFileSinkTest, MaxFilesKeepsTheNewest) {
  RotatingFileSinkOptions options = Options(300);
  options.max_files = 2;
  auto sink = RotatingFileSink::Open(options);
  ASSERT_TRUE(sink.ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE((*sink)->Send(MakeLog(i), absl::InfiniteFuture()).ok());
  ASSERT_TRUE((*sink)->Close(absl::InfiniteFuture()).ok());
  std::vector<std::pair<uint64_t, std::string>> files = Files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[1].first, (*sink)->files_opened());
  EXPECT_THAT(examples_testing::ReadFile(files[1].second), HasSubstr("\"id\":\"id-19\""));
}

TEST_F(RotatingFileSinkTest, ConcurrentSendsNeverMixLines) {
  auto sink = RotatingFileSink::Open(Options(4096));
  ASSERT_TRUE(sink.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        ASSERT_TRUE((*sink)->Send(MakeLog(t * 1000 + i), absl::InfiniteFuture()).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE((*sink)->Close(absl::InfiniteFuture()).ok());
  size_t lines = 0;
  for (const auto& file : Files()) {
    for (const std::string& line : examples_testing::Lines(examples_testing::ReadFile(file.second))) {
      EXPECT_THAT(line, ::testing::StartsWith("{\"id\":\"id-"));
      EXPECT_THAT(line, ::testing::EndsWith("}"));
      ++lines;
    }
  }
  EXPECT_EQ(lines, 1000u);
}

TEST_F(RotatingFileSinkTest, StatusCodes) {
  EXPECT_EQ(RotatingFileSink::Open(RotatingFileSinkOptions()).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto sink = RotatingFileSink::Open(Options(1000));
  ASSERT_TRUE(sink.ok());
  plugins::Log bad = MakeLog(1);
  bad.set_raw("\xff not UTF-8");
  EXPECT_EQ((*sink)->Send(bad, absl::InfiniteFuture()).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE((*sink)->Close(absl::InfiniteFuture()).ok());
  EXPECT_TRUE((*sink)->Close(absl::InfiniteFuture()).ok());
  EXPECT_EQ((*sink)->Send(MakeLog(2), absl::InfiniteFuture()).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*sink)->Flush(absl::InfiniteFuture()).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Files().empty()) << "a rejected Log opens no file";
}

}  // namespace
}  // namespace rotating_file
