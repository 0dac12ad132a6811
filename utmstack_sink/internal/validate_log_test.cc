#include "utmstack_sink/internal/validate_log.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/plugins.pb.h"

namespace utmstack_sink_internal {
namespace {

using ::testing::HasSubstr;

TEST(ValidateLogTest, AcceptsAWellFormedLogWithinTheLimit) {
  plugins::Log log;
  log.set_id("a1");
  log.set_raw("{\"k\":\"\xC3\xA9\"}");
  EXPECT_TRUE(ValidateLog(log, log.ByteSizeLong(), 1024).ok());
}

TEST(ValidateLogTest, RejectsBadUtf8NamingFieldAndOffset) {
  plugins::Log log;
  log.set_id("evt-9");
  log.set_datasource("group\xFF");
  absl::Status s = ValidateLog(log, log.ByteSizeLong(), 1024);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("log evt-9: field dataSource is not valid UTF-8"));
  EXPECT_THAT(s.message(), HasSubstr("offset 5"));
}

TEST(ValidateLogTest, RejectsAnOversizedLogNamingTheLimit) {
  plugins::Log log;
  log.set_id("big");
  log.set_raw(std::string(2000, 'x'));
  absl::Status s = ValidateLog(log, log.ByteSizeLong(), 1024);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("over the 1024-byte limit"));
}

TEST(ValidateLogTest, PrintableIdKeepsMessagesReadable) {
  EXPECT_EQ(PrintableId(""), "(empty)");
  EXPECT_EQ(PrintableId("a\nb\xFF"), "a?b?");
  EXPECT_EQ(PrintableId(std::string(100, 'z')), std::string(64, 'z') + "...");
}

}  // namespace
}  // namespace utmstack_sink_internal
