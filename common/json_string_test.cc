#include "common/json_string.h"

#include <string>

#include "gtest/gtest.h"
#include "simdjson.h"

namespace common {
namespace {

std::string Quoted(absl::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

TEST(JsonStringTest, EscapesWhatJsonRequires) {
  EXPECT_EQ(Quoted("plain"), "\"plain\"");
  EXPECT_EQ(Quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Quoted("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
  EXPECT_EQ(Quoted(std::string("\x00\x01\x1f", 3)), "\"\\u0000\\u0001\\u001f\"");
  EXPECT_EQ(Quoted("caf\xc3\xa9 \xf0\x9f\x94\x92"), "\"caf\xc3\xa9 \xf0\x9f\x94\x92\"");
}

TEST(JsonStringTest, EveryByteValueRoundTripsThroughAParser) {
  std::string all;
  for (int c = 1; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  all += "\xc3\xa9";
  const std::string json = Quoted(all);
  simdjson::dom::parser parser;
  std::string_view back;
  ASSERT_EQ(parser.parse(json).get_string().get(back), simdjson::SUCCESS);
  EXPECT_EQ(std::string(back), all);
}

}  // namespace
}  // namespace common
