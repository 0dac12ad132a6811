#include "loganalytics/convert/internal/json_text.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "simdjson.h"

namespace loganalytics {
namespace internal_convert {
namespace {

TEST(JsonTextTest, RecognisesJsonNumbers) {
  for (const char* good : {"0", "-0", "12", "-12", "0.5", "1e5", "1E+5", "-1.25e-10",
                           "9223372036854775808", "123456789012345678901234567890"}) {
    EXPECT_TRUE(IsJsonNumber(good)) << good;
  }
  for (const char* bad : {"", "-", "+1", "01", "1.", ".5", "1e", "1e+", "0x10", "1x2",
                          "NaN", "Infinity", "1 ", "--1", "1.2.3"}) {
    EXPECT_FALSE(IsJsonNumber(bad)) << bad;
  }
}

// The boundaries match what simdjson accepts.
TEST(JsonTextTest, RecognisesNumbersStrictParsersCanHold) {
  simdjson::dom::parser parser;
  const std::string many(400, '1');
  for (const std::string& number :
       {std::string("0"), std::string("-9223372036854775808"),
        std::string("-9223372036854775809"), std::string("18446744073709551615"),
        std::string("18446744073709551616"), std::string("-18446744073709551615"),
        std::string("1234567890123456789"), std::string("99999999999999999999"),
        std::string("1e308"), std::string("1e309"), std::string("-1e309"),
        std::string("1.7976931348623157e308"), std::string("1.8e308"),
        std::string("1e-400"), std::string("1e-99999999"), std::string("1e99999999"),
        std::string("0.5"), many, many + ".5", "0." + many, many.substr(0, 300) + "e-10",
        std::string("12345678901234567890123.5")}) {
    ASSERT_TRUE(IsJsonNumber(number)) << number;
    simdjson::dom::element element;
    const bool simdjson_accepts = parser.parse(number).get(element) == simdjson::SUCCESS;
    EXPECT_EQ(IsRepresentableNumber(number), simdjson_accepts) << number.substr(0, 40);
  }
}

TEST(JsonTextTest, TrimsTrailingWhitespaceOnly) {
  EXPECT_EQ(TrimTrailingJsonWhitespace(" 12 \t\r\n"), " 12");
  EXPECT_EQ(TrimTrailingJsonWhitespace("   "), "");
}

TEST(JsonTextTest, CopiesStringTokensCheckingEscapes) {
  std::string out;
  EXPECT_TRUE(AppendJsonStringToken(R"("plain")", &out));
  EXPECT_EQ(out, R"("plain")");
  out.clear();
  EXPECT_TRUE(AppendJsonStringToken(R"("a\"b\\c\/d\b\f\n\r\t\u00e9\uD83D\uDE00")", &out));
  EXPECT_EQ(out, R"("a\"b\\c\/d\b\f\n\r\t\u00e9\uD83D\uDE00")");
  out.clear();
  EXPECT_TRUE(AppendJsonStringToken(R"("x\ud800y\udc00\ud800\u0041")", &out));
  EXPECT_EQ(out, R"("x\ufffdy\ufffd\ufffd\u0041")");
  for (const char* bad : {R"("\q")", R"("\u12")", R"("\u12G4")", R"("\x41")"}) {
    out.clear();
    EXPECT_FALSE(AppendJsonStringToken(bad, &out)) << bad;
  }
}

TEST(JsonTextTest, UnescapesToUtf8) {
  std::string out = "prefix:";
  EXPECT_TRUE(UnescapeJsonString(R"(a\"b\\\/\n\u00e9\u20ac\ud83d\ude00\ud800)", &out));
  EXPECT_EQ(out, "prefix:a\"b\\/\n\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xEF\xBF\xBD");
  out.clear();
  EXPECT_FALSE(UnescapeJsonString(R"(abc\)", &out));
  out.clear();
  EXPECT_FALSE(UnescapeJsonString(R"(\u00)", &out));
}

std::string Minified(const std::string& json) {
  std::string out = "<";
  bool is_null = false;
  if (!AppendMinifiedJson(json, &out, &is_null)) return "invalid";
  if (is_null) return "null";
  return out;
}

TEST(JsonTextTest, MinifiesValidJson) {
  EXPECT_EQ(Minified(" { \"a\" : [ 1 , -2.5e3 , true , false , null , { } , [ ] ] ,\n"
                     "\t\"b c\" : \"x \\\" \\u00e9 \\ud83d\\ude00 y\" } "),
            "<{\"a\":[1,-2.5e3,true,false,null,{},[]],\"b c\":\"x \\\" \\u00e9 \\ud83d\\ude00 y\"}");
  EXPECT_EQ(Minified("\"just a string with spaces\""), "<\"just a string with spaces\"");
  EXPECT_EQ(Minified(" 12 "), "<12");
  EXPECT_EQ(Minified(" null "), "null");
  EXPECT_EQ(Minified("[null]"), "<[null]");
  EXPECT_EQ(Minified("\"S\xC3\xA3o Paulo \xE6\x9D\xB1\""), "<\"S\xC3\xA3o Paulo \xE6\x9D\xB1\"");
}

TEST(JsonTextTest, RejectsWhatIsNotStrictJson) {
  for (const char* bad :
       {"", "  ", "{", "}", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{\"a\":}",
        "[1 2]", "[1]]", "[1] x", "nul", "nulls", "truex", "[tru]", "01", "1.", "+1",
        "\"unterminated", "\"bad \\q escape\"", "\"lone \\ud800\"", "\"\\udc00\"",
        "\"tab\tinside\"", "18446744073709551616", "[1e400]", "'single'", "[1}", "{\"a\":1]",
        "NaN", "[Infinity]"}) {
    EXPECT_EQ(Minified(bad), "invalid") << bad;
  }
  std::string deep(kMaxJsonDepth, '[');
  deep += std::string(kMaxJsonDepth, ']');
  EXPECT_EQ(Minified(deep), "<" + deep);
  EXPECT_EQ(Minified("[" + deep + "]"), "invalid");
}

// Whatever AppendMinifiedJson accepts, simdjson accepts, with the same content.
TEST(JsonTextTest, MinifiedJsonParsesAsTheOriginal) {
  simdjson::dom::parser a, b;
  for (const std::string& json :
       {std::string(R"({"k":[1,2.5,-0,1e-7,{"n":null,"s":"\"q\" \u0041"}],"t":true})"),
        std::string(" [ \"x\" , { \"y\" : [ ] } ] ")}) {
    std::string out;
    bool is_null = false;
    ASSERT_TRUE(AppendMinifiedJson(json, &out, &is_null)) << json;
    simdjson::dom::element original, minified;
    ASSERT_EQ(a.parse(json).get(original), simdjson::SUCCESS);
    ASSERT_EQ(b.parse(out).get(minified), simdjson::SUCCESS) << out;
    EXPECT_EQ(simdjson::minify(original), simdjson::minify(minified));
  }
}

// The one-pass dynamic decoder agrees with unescaping followed by AppendMinifiedJson.
std::string TwoPass(const std::string& escaped) {
  std::string unescaped;
  if (!UnescapeJsonString(escaped, &unescaped)) return "bad escape";
  std::string out;
  bool is_null = false;
  if (!AppendMinifiedJson(unescaped, &out, &is_null)) return "not json";
  return is_null ? "null" : out;
}

std::string OnePass(const std::string& escaped) {
  std::string out = "prefix";
  switch (AppendDynamicJson(escaped, &out)) {
    case DynamicJson::kNested:
      return out.substr(6);
    case DynamicJson::kNull:
      EXPECT_EQ(out, "prefix");
      return "null";
    case DynamicJson::kFallback:
      EXPECT_EQ(out, "prefix");
      return "fallback";
  }
  return "?";
}

TEST(JsonTextTest, DynamicOnePassAgreesWithTwoPasses) {
  const std::vector<std::string> cases = {
      R"({\"city\":\"Redmond\",\"geo\":{\"lat\":47.6,\"lon\":-122.1}})",
      R"( [ 1 ,\n\t2 , { \"a b\" : [ true , false , null ] } ]\r\n)",
      R"({\"inner\":\"{\\\"k\\\":1}\",\"path\":\"C:\\\\Windows\"})",
      R"({\"e\":\"\\u00e9 \\ud83d\\ude00 \\/ \\n\"})",
      R"(\"just a string\")", R"(null)", R"( null\n)", R"([null])", R"(12345678901234567)",
      R"([])", R"({})", R"({\"a\":\"x\/y\"})",
      // Content the one pass leaves to the fallback:
      R"({\"u\":\"\u00e9\"})", R"(\u005b1])", R"({\"lone\":\"\\ud800\"})",
      R"({\"a\":1,})", R"({\"a\":\"line\nbreak\"})", R"([1 2])", R"(not json)",
      R"(18446744073709551616)", R"([truex])", R"({\"a\"1})", R"(\\)", R"()", R"(  )",
      R"({\"a\":\"\\q\"})", R"([1]\b)", R"(\/)", R"([\"a\"\"b\"])", R"(nul)"};
  for (const std::string& escaped : cases) {
    const std::string one = OnePass(escaped);
    const std::string two = TwoPass(escaped);
    if (one == "fallback") continue;
    EXPECT_EQ(one, two) << escaped;
  }
  EXPECT_EQ(OnePass(cases[0]), R"({"city":"Redmond","geo":{"lat":47.6,"lon":-122.1}})");
  EXPECT_EQ(OnePass(cases[1]), R"([1,2,{"a b":[true,false,null]}])");
  EXPECT_EQ(OnePass(cases[2]), R"({"inner":"{\"k\":1}","path":"C:\\Windows"})");
  EXPECT_EQ(OnePass(cases[3]), R"({"e":"\u00e9 \ud83d\ude00 \/ \n"})");
  EXPECT_EQ(OnePass("null"), "null");
  EXPECT_EQ(OnePass(R"({\"u\":\"\u00e9\"})"), "fallback");
  EXPECT_EQ(OnePass("not json"), "fallback");
}

// Every escaped string must parse back (with simdjson) to the original text.
TEST(JsonTextTest, EscapedStringsRoundTrip) {
  simdjson::dom::parser parser;
  std::string all_bytes;
  for (int c = 1; c < 0x80; ++c) all_bytes.push_back(static_cast<char>(c));
  for (const std::string& text :
       {std::string(""), std::string("simple"), std::string("quote\" back\\slash"),
        all_bytes, std::string("S\xC3\xA3o Paulo \xE6\x9D\xB1\xE4\xBA\xAC \xF0\x9F\x98\x80")}) {
    std::string json;
    AppendEscapedJsonString(text, &json);
    std::string_view parsed;
    ASSERT_EQ(parser.parse(json).get(parsed), simdjson::SUCCESS) << json;
    EXPECT_EQ(parsed, text);
  }
}

TEST(JsonTextTest, InvalidUtf8BecomesReplacementCharacter) {
  std::string json;
  AppendEscapedJsonString("a\xFF" "b\xC3", &json);
  EXPECT_EQ(json, "\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD\"");
  json.clear();
  AppendEscapedJsonString("\xED\xA0\x80", &json);  // an encoded surrogate
  EXPECT_EQ(json, "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace internal_convert
}  // namespace loganalytics
