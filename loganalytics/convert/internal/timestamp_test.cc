#include "loganalytics/convert/internal/timestamp.h"

#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace loganalytics {
namespace internal_convert {
namespace {

std::string Normalize(const std::string& text) {
  std::string out;
  if (!NormalizeRfc3339(text, &out)) return "<invalid>";
  return out;
}

TEST(TimestampTest, NormalizesAzureDatetimes) {
  EXPECT_EQ(Normalize("2024-01-01T00:00:00Z"), "2024-01-01T00:00:00Z");
  EXPECT_EQ(Normalize("2024-01-01T00:00:00.1234567Z"), "2024-01-01T00:00:00.1234567Z");
  EXPECT_EQ(Normalize("2024-01-01T00:00:00.1234500Z"), "2024-01-01T00:00:00.12345Z");
  EXPECT_EQ(Normalize("2024-01-01T00:00:00.0000000Z"), "2024-01-01T00:00:00Z");
  EXPECT_EQ(Normalize("2024-01-01T00:00:00.123456789123Z"), "2024-01-01T00:00:00.123456789Z");
  EXPECT_EQ(Normalize("2024-02-29t23:59:59.5z"), "2024-02-29T23:59:59.5Z");
}

TEST(TimestampTest, ConvertsOffsetsToUtc) {
  EXPECT_EQ(Normalize("2024-01-01T02:00:00+02:00"), "2024-01-01T00:00:00Z");
  EXPECT_EQ(Normalize("2023-12-31T19:30:00.25-05:00"), "2024-01-01T00:30:00.25Z");
}

TEST(TimestampTest, RejectsWhatIsNotADateTime) {
  for (const char* bad :
       {"", "2024-01-01", "2024-01-01T00:00:00", "2024-13-01T00:00:00Z",
        "2023-02-29T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:60:00Z",
        "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00ZZ", "2024-01-01T00:00:00+0200",
        "garbage-garbage-garbage", "2024-01-01T00:00:00+25:00"}) {
    EXPECT_EQ(Normalize(bad), "<invalid>") << bad;
  }
}

TEST(TimestampTest, FormatsTimes) {
  EXPECT_EQ(FormatRfc3339(absl::FromUnixNanos(1700000000123456789)),
            "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(FormatRfc3339(absl::FromUnixSeconds(1700000000)), "2023-11-14T22:13:20Z");
}

}  // namespace
}  // namespace internal_convert
}  // namespace loganalytics
