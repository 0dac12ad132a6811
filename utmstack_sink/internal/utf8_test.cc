#include "utmstack_sink/internal/utf8.h"

#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace utmstack_sink_internal {
namespace {

constexpr size_t kOk = absl::string_view::npos;

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_EQ(FindInvalidUtf8(""), kOk);
  EXPECT_EQ(FindInvalidUtf8("plain ASCII, longer than eight bytes"), kOk);
  EXPECT_EQ(FindInvalidUtf8("caf\xC3\xA9"), kOk);           // U+00E9
  EXPECT_EQ(FindInvalidUtf8("\xE2\x82\xAC 12"), kOk);       // U+20AC
  EXPECT_EQ(FindInvalidUtf8("\xED\x9F\xBF"), kOk);          // U+D7FF
  EXPECT_EQ(FindInvalidUtf8("\xEE\x80\x80"), kOk);          // U+E000
  EXPECT_EQ(FindInvalidUtf8("\xF0\x9F\x98\x80"), kOk);      // U+1F600
  EXPECT_EQ(FindInvalidUtf8("\xF4\x8F\xBF\xBF"), kOk);      // U+10FFFF
  EXPECT_EQ(FindInvalidUtf8(std::string("a\0b", 3)), kOk);  // NUL is valid
}

TEST(Utf8Test, ReportsTheOffsetOfTheFirstBadSequence) {
  EXPECT_EQ(FindInvalidUtf8("\x80"), 0u);              // lone continuation
  EXPECT_EQ(FindInvalidUtf8("abcdefghij\xFF"), 10u);   // after the fast path
  EXPECT_EQ(FindInvalidUtf8("ok \xC0\xAF"), 3u);       // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xC1\xBF"), 0u);          // overlong
  EXPECT_EQ(FindInvalidUtf8("\xE0\x9F\xBF"), 0u);      // overlong 3-byte
  EXPECT_EQ(FindInvalidUtf8("\xF0\x8F\xBF\xBF"), 0u);  // overlong 4-byte
  EXPECT_EQ(FindInvalidUtf8("x\xED\xA0\x80"), 1u);     // surrogate U+D800
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("\xF5\x80\x80\x80"), 0u);  // lead byte F5
  EXPECT_EQ(FindInvalidUtf8("ab\xE2\x82"), 2u);        // truncated
  EXPECT_EQ(FindInvalidUtf8("\xE2\x28\xA1"), 0u);      // bad continuation
  EXPECT_EQ(FindInvalidUtf8("\xC3\xA9\xC3"), 2u);      // good, then cut
}

TEST(Utf8Test, ABadByteIsFoundAtEveryOffsetOfTheFastPaths) {
  // 100 bytes: three 32-byte blocks, then words and single bytes; a bad byte in each
  // place, and a good two-byte character in each place.
  for (size_t at = 0; at < 100; ++at) {
    std::string bad(100, 'a');
    bad[at] = '\xFF';
    EXPECT_EQ(FindInvalidUtf8(bad), at);
    std::string good(100, 'a');
    good.replace(at, 2, "\xC3\xA9");
    EXPECT_EQ(FindInvalidUtf8(good.substr(0, 100)), at == 99 ? 99 : kOk) << at;
  }
}

TEST(Utf8Test, IsValidUtf8MatchesFind) {
  EXPECT_TRUE(IsValidUtf8("{\"user\":\"j\xC3\xBCrgen\"}"));
  EXPECT_FALSE(IsValidUtf8("{\"user\":\"j\xFCrgen\"}"));  // Latin-1, not UTF-8
}

}  // namespace
}  // namespace utmstack_sink_internal
