#include "utmstack_sink/json_lines_sink.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/plugins.pb.h"
#include "testdata/fake_engine/short_temp_dir.h"

namespace utmstack_sink {
namespace {

using ::testing::HasSubstr;

plugins::Log MakeLog(const std::string& id) {
  plugins::Log log;
  log.set_id(id);
  log.set_datatype("azure");
  log.set_datasource("group-1");
  log.set_timestamp("2024-05-01T10:00:00.123456789Z");
  log.set_tenantid("ce66672c-e36d-4761-a8c8-90058fee1a24");
  log.set_raw("{\"Operation\":\"Sign-in\",\"Note\":\"line1\\nline2\",\"N\":1}");
  return log;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(LogToJsonLineTest, UsesTheProtobufJsonMappingOnOneLine) {
  plugins::Log log = MakeLog("id-1");
  log.set_raw("{\"a\":\"x\ny\"}");  // a real newline inside a field
  absl::StatusOr<std::string> line = LogToJsonLine(log);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->find('\n'), std::string::npos);
  EXPECT_THAT(*line, HasSubstr("\"@timestamp\":\"2024-05-01T10:00:00.123456789Z\""));
  EXPECT_THAT(*line, HasSubstr("\"dataType\":\"azure\""));
  plugins::Log back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*line, &back).ok());
  EXPECT_EQ(back.SerializeAsString(), log.SerializeAsString());
}

TEST(LogToJsonLineTest, LeavesEmptyFieldsOut) {
  plugins::Log log;
  log.set_id("only-id");
  absl::StatusOr<std::string> line = LogToJsonLine(log);
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(*line, "{\"id\":\"only-id\"}");
}

TEST(JsonLinesSinkTest, FileGetsOneLinePerLogInOrderAfterFlush) {
  fake_engine::ShortTempDir dir("jls");
  ASSERT_TRUE(dir.ok()) << dir.error();
  const std::string path = dir.Path("out.jsonl");
  auto sink = JsonLinesSink::Open(path);
  ASSERT_TRUE(sink.ok()) << sink.status();
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(
        (*sink)->Send(MakeLog(absl::StrCat("id-", i)), absl::InfiniteFuture()).ok());
  }
  ASSERT_TRUE((*sink)->Flush(absl::InfiniteFuture()).ok());
  std::vector<std::string> lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    plugins::Log log;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[i], &log).ok())
        << lines[i];
    EXPECT_EQ(log.id(), absl::StrCat("id-", i));
    EXPECT_EQ(log.raw(), MakeLog("x").raw());
  }
  EXPECT_EQ((*sink)->lines(), 50u);
  EXPECT_TRUE((*sink)->Close(absl::InfiniteFuture()).ok());
}

TEST(JsonLinesSinkTest, AppendsByDefaultAndTruncatesWhenAsked) {
  fake_engine::ShortTempDir dir("jls");
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.Path("out.jsonl");
  for (int round = 0; round < 2; ++round) {
    auto sink = JsonLinesSink::Open(path);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Send(MakeLog("a"), absl::InfiniteFuture()).ok());
    ASSERT_TRUE((*sink)->Close(absl::InfiniteFuture()).ok());
  }
  EXPECT_EQ(ReadLines(path).size(), 2u);
  JsonLinesSinkOptions truncate;
  truncate.append = false;
  auto sink = JsonLinesSink::Open(path, truncate);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Close(absl::InfiniteFuture()).ok());
  EXPECT_EQ(ReadLines(path).size(), 0u);
}

TEST(JsonLinesSinkTest, OpenInAMissingDirectoryIsNotFoundNamingThePath) {
  auto sink = JsonLinesSink::Open("/nonexistent-dir-for-test/out.jsonl");
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(sink.status().message(), HasSubstr("/nonexistent-dir-for-test/out.jsonl"));
}

TEST(JsonLinesSinkTest, FullDiskIsResourceExhausted) {
  std::ifstream probe("/dev/full");
  if (!probe) GTEST_SKIP() << "/dev/full is not available here";
  auto sink = JsonLinesSink::Open("/dev/full");
  ASSERT_TRUE(sink.ok()) << sink.status();
  ASSERT_TRUE((*sink)->Send(MakeLog("a"), absl::InfiniteFuture()).ok());  // buffered
  absl::Status s = (*sink)->Flush(absl::InfiniteFuture());
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("free disk space"));
  // stdio dropped the line it could not write: a second Flush has nothing left to
  // write, and must not report the lost line as safe (another caller sharing the
  // sink would commit on it).
  absl::Status again = (*sink)->Flush(absl::InfiniteFuture());
  EXPECT_EQ(again.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(again.message(), HasSubstr("may be lost"));
  EXPECT_EQ((*sink)->Send(MakeLog("b"), absl::InfiniteFuture()).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(JsonLinesSinkTest, RejectsBadUtf8AndWritesNothing) {
  std::ostringstream out;
  JsonLinesSink sink(&out);
  plugins::Log log = MakeLog("bad");
  log.set_raw("{\"k\":\"\xC3\"}");
  absl::Status s = sink.Send(log, absl::InfiniteFuture());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("field raw is not valid UTF-8"));
  EXPECT_TRUE(sink.Flush(absl::InfiniteFuture()).ok());
  EXPECT_EQ(out.str(), "");
}

TEST(JsonLinesSinkTest, SendAfterCloseIsFailedPrecondition) {
  std::ostringstream out;
  JsonLinesSink sink(&out);
  ASSERT_TRUE(sink.Send(MakeLog("a"), absl::InfiniteFuture()).ok());
  ASSERT_TRUE(sink.Close(absl::InfiniteFuture()).ok());
  EXPECT_EQ(sink.Send(MakeLog("b"), absl::InfiniteFuture()).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(sink.Close(absl::InfiniteFuture()).ok());  // second Close
  EXPECT_EQ(absl::StrSplit(out.str(), '\n', absl::SkipEmpty()).begin()->size(),
            LogToJsonLine(MakeLog("a"))->size());
}

TEST(JsonLinesSinkTest, ConcurrentSendsNeverInterleaveLines) {
  std::ostringstream out;
  JsonLinesSink sink(&out);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&sink, t] {
      for (int i = 0; i < 200; ++i) {
        plugins::Log log = MakeLog(absl::StrCat(t, "-", i));
        log.set_raw(std::string(500 + t * 100, 'a' + t));
        ASSERT_TRUE(sink.Send(log, absl::InfiniteFuture()).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(sink.Flush(absl::InfiniteFuture()).ok());
  int lines = 0;
  for (absl::string_view line : absl::StrSplit(out.str(), '\n', absl::SkipEmpty())) {
    plugins::Log log;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(std::string(line), &log).ok());
    const int t = log.id()[0] - '0';
    EXPECT_EQ(log.raw(), std::string(500 + t * 100, 'a' + t));
    ++lines;
  }
  EXPECT_EQ(lines, 800);
}

}  // namespace
}  // namespace utmstack_sink
