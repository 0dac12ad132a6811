#include "loganalytics/internal/kql.h"

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace loganalytics_internal {
namespace {

using ::testing::HasSubstr;

TEST(KqlTest, QuoteStringEscapesEveryBreakout) {
  absl::StatusOr<std::string> q = QuoteString("a'b\\c\"d\ne\rf\tg'|take 1");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(*q, "'a\\'b\\\\c\\\"d\\ne\\rf\\tg\\'|take 1'");
}

TEST(KqlTest, QuoteStringTrailingBackslashCannotEatTheQuote) {
  absl::StatusOr<std::string> q = QuoteString("abc\\");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, "'abc\\\\'");
}

TEST(KqlTest, QuoteStringRefusesOtherControlCharacters) {
  absl::StatusOr<std::string> q = QuoteString(std::string("a\0b", 3));
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(q.status().message(), HasSubstr("control character 0x00"));
  EXPECT_EQ(QuoteString("x\x1b").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KqlTest, QuoteIdentifier) {
  absl::StatusOr<std::string> q = QuoteIdentifier("My 'Table'_CL");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, "['My \\'Table\\'_CL']");
  EXPECT_EQ(QuoteIdentifier("").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KqlTest, DatetimeKeepsHundredNanosecondTicks) {
  absl::Time t = absl::FromUnixSeconds(1704067200) + absl::Nanoseconds(123456700);
  EXPECT_EQ(FormatDatetime(t), "2024-01-01T00:00:00.1234567Z");
  EXPECT_EQ(DatetimeLiteral(absl::FromUnixSeconds(1704067200)),
            "datetime(2024-01-01T00:00:00.0000000Z)");
  absl::StatusOr<absl::Time> back = ParseDatetime(FormatDatetime(t));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, t);
}

TEST(KqlTest, ParseDatetimeAcceptsAzureForms) {
  absl::Time base = absl::FromUnixSeconds(1704067200);
  EXPECT_EQ(*ParseDatetime("2024-01-01T00:00:00Z"), base);
  EXPECT_EQ(*ParseDatetime("2024-01-01T00:00:00.5Z"), base + absl::Milliseconds(500));
  EXPECT_EQ(*ParseDatetime("2024-01-01T01:00:00+01:00"), base);
  absl::StatusOr<absl::Time> bad = ParseDatetime("yesterday");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("\"yesterday\" is not an ISO 8601"));
}

TEST(KqlTest, Timespan) {
  absl::Time base = absl::FromUnixSeconds(1704067200);
  EXPECT_EQ(FormatTimespan(base, base + absl::Hours(24)),
            "2024-01-01T00:00:00.0000000Z/2024-01-02T00:00:00.0000000Z");
}

}  // namespace
}  // namespace loganalytics_internal
