#include "common/json_log.h"

#include <string>
#include <thread>
#include <vector>

#include "common/json_log_capture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace common {
namespace {

using ::testing::HasSubstr;

TEST(JsonLogTest, WritesOneParsableObjectPerLine) {
  JsonLogCapture capture(LogLevel::kInfo);
  JsonLogger& log = *capture.logger();
  log.Info("page \"3\" delivered\n", {{"workspace", "prod"}, {"query", "Signin\x01"}},
           {{"rows", 5000}, {"rate", 12.5}});
  log.Debug("dropped");
  std::string out = capture.Text();
  ASSERT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(out).get(doc), simdjson::SUCCESS) << out;
  EXPECT_EQ(std::string(doc["level"].get_string().value()), "info");
  EXPECT_EQ(std::string(doc["message"].get_string().value()), "page \"3\" delivered\n");
  EXPECT_EQ(std::string(doc["query"].get_string().value()), "Signin\x01");
  EXPECT_EQ(doc["rows"].get_int64().value(), 5000);
  EXPECT_DOUBLE_EQ(doc["rate"].get_double().value(), 12.5);
  EXPECT_THAT(out, HasSubstr("\"time\":\""));
}

TEST(JsonLogTest, LinesFromManyThreadsDoNotInterleave) {
  JsonLogCapture capture(LogLevel::kDebug);
  JsonLogger& log = *capture.logger();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 500; ++i) log.Debug(std::string(200, static_cast<char>('a' + t)));
    });
  }
  for (auto& th : threads) th.join();
  std::string out = capture.Text();
  simdjson::dom::parser parser;
  size_t lines = 0, start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(out.substr(start, end - start)).get(doc), simdjson::SUCCESS);
    ++lines;
    start = end + 1;
  }
  EXPECT_EQ(lines, 2000u);
}

TEST(JsonLogTest, ParsesLevelNames) {
  EXPECT_EQ(ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(ParseLogLevel("warning"), LogLevel::kWarning);
  EXPECT_EQ(ParseLogLevel("error"), LogLevel::kError);
  EXPECT_EQ(ParseLogLevel("info"), LogLevel::kInfo);
}

}  // namespace
}  // namespace common
