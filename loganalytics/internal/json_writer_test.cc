#include "loganalytics/internal/json_writer.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace loganalytics_internal {
namespace {

using ::testing::HasSubstr;

// Reads a JSON string literal back with simdjson, so the escaping is checked by a
// real JSON parser rather than by comparing against our own expectations only.
std::string RoundTrip(const std::string& literal) {
  simdjson::dom::parser parser;
  std::string doc = "[" + literal + "]";
  simdjson::dom::element element;
  EXPECT_EQ(parser.parse(doc).get(element), simdjson::SUCCESS) << doc;
  std::string_view value;
  EXPECT_EQ(element.at(0).get(value), simdjson::SUCCESS) << doc;
  return std::string(value);
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControls) {
  absl::StatusOr<std::string> s =
      JsonString("a\"b\\c\nd\re\tf\bg\fh\x01i\x1fj");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, "\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0001i\\u001fj\"");
  EXPECT_EQ(RoundTrip(*s), "a\"b\\c\nd\re\tf\bg\fh\x01i\x1fj");
}

TEST(JsonWriterTest, KeepsUtf8AndNul) {
  std::string text = std::string("é — 日本 ") + std::string(1, '\0') + "end";
  absl::StatusOr<std::string> s = JsonString(text);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(*s, HasSubstr("\\u0000"));
  EXPECT_EQ(RoundTrip(*s), text);
}

TEST(JsonWriterTest, RefusesInvalidUtf8) {
  std::string out = "prefix";
  absl::Status s = AppendJsonString("bad \xff\xfe byte", &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("not valid UTF-8"));
  EXPECT_EQ(out, "prefix");
}

TEST(JsonWriterTest, KqlQueryRoundTrips) {
  const std::string kql =
      "SigninLogs | where UserPrincipalName == \"a\\\\b\" | where x == 'it''s'";
  absl::StatusOr<std::string> s = JsonString(kql);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(RoundTrip(*s), kql);
}

}  // namespace
}  // namespace loganalytics_internal
