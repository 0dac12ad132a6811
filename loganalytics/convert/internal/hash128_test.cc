#include "loganalytics/convert/internal/hash128.h"

#include <string>

#include "gtest/gtest.h"

namespace loganalytics {
namespace internal_convert {
namespace {

Hash128 OneShot(const std::string& bytes, uint32_t seed = 0) {
  Murmur3Hasher hasher(seed);
  hasher.Update(bytes);
  return hasher.Finish();
}

// Reference values of MurmurHash3_x64_128 (as published for the mmh3 package:
// hash_bytes("foo") and hash128("foo", 42)).
TEST(Hash128Test, MatchesReferenceValues) {
  const Hash128 foo = OneShot("foo");
  EXPECT_EQ(foo.h1, 0xe271865701f54561ULL);
  EXPECT_EQ(foo.h2, 0x7eaf87e42bba7d87ULL);
  const Hash128 seeded = OneShot("foo", 42);
  const unsigned __int128 combined =
      (static_cast<unsigned __int128>(seeded.h2) << 64) | seeded.h1;
  // mmh3.hash128("foo", 42) == 215966891540331383248189432718888555506 == (h2 << 64) | h1.
  unsigned __int128 value = 0;
  for (char c : std::string("215966891540331383248189432718888555506")) {
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  EXPECT_TRUE(combined == value);
  const Hash128 empty = OneShot("");
  EXPECT_EQ(empty.h1, 0u);
  EXPECT_EQ(empty.h2, 0u);
}

TEST(Hash128Test, IncrementalEqualsOneShotForEverySplit) {
  std::string text;
  for (int i = 0; i < 100; ++i) text.push_back(static_cast<char>('a' + i % 26));
  const Hash128 whole = OneShot(text);
  for (size_t split = 0; split <= text.size(); ++split) {
    for (size_t second = split; second <= text.size(); second += 7) {
      Murmur3Hasher hasher;
      hasher.Update(text.substr(0, split));
      hasher.Update(text.substr(split, second - split));
      hasher.Update(text.substr(second));
      const Hash128 parts = hasher.Finish();
      ASSERT_EQ(parts.h1, whole.h1) << split << " " << second;
      ASSERT_EQ(parts.h2, whole.h2) << split << " " << second;
    }
  }
}

TEST(Hash128Test, FieldsAreLengthPrefixed) {
  Murmur3Hasher a, b;
  a.UpdateField("ab");
  a.UpdateField("c");
  b.UpdateField("a");
  b.UpdateField("bc");
  const Hash128 ha = a.Finish(), hb = b.Finish();
  EXPECT_FALSE(ha.h1 == hb.h1 && ha.h2 == hb.h2);
}

TEST(Hash128Test, FormatsVersion8Uuid) {
  EXPECT_EQ(FormatUuid(Hash128{0x0123456789abcdefULL, 0xfedcba9876543210ULL}),
            "01234567-89ab-8def-bedc-ba9876543210");
  EXPECT_EQ(FormatUuid(Hash128{0, 0}), "00000000-0000-8000-8000-000000000000");
}

}  // namespace
}  // namespace internal_convert
}  // namespace loganalytics
