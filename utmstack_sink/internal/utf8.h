// File: utmstack_sink/internal/utf8.h
//
// UTF-8 validation for the string fields of a plugins::Log. proto3 `string` fields
// must hold well-formed UTF-8: the engine (a Go gRPC server) fails the whole Input
// stream when it cannot decode one Log, so a sink that forwarded such a Log would
// resend it forever. The sinks check every field before taking a Log.
//
// "Well-formed" is Unicode's definition (Table 3-7): no overlong forms, no UTF-16
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequences. This
// is also what Go's utf8.ValidString and protobuf's parser accept.
//
// Example:
//   size_t bad = utmstack_sink_internal::FindInvalidUtf8(log.raw());
//   if (bad != absl::string_view::npos) {
//     return absl::InvalidArgumentError(absl::StrCat("raw: bad UTF-8 at byte ", bad));
//   }
//
// Pure functions: thread-safe, no allocation.
#ifndef UTMSTACK_SINK_INTERNAL_UTF8_H_
#define UTMSTACK_SINK_INTERNAL_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "absl/strings/string_view.h"

namespace utmstack_sink_internal {

// Returns the byte offset of the first byte of the first ill-formed sequence in `s`,
// or absl::string_view::npos when all of `s` is well-formed UTF-8. Thread-safe.
inline size_t FindInvalidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // ASCII fast path: 32 bytes at a time (four words tested together), then eight.
    while (i + 32 <= n) {
      uint64_t w[4];
      std::memcpy(w, p + i, sizeof(w));
      if ((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ULL) break;
      i += 32;
    }
    while (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, p + i, sizeof(word));
      if (word & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    // Lead byte: how many continuation bytes follow, and the allowed range of the
    // first one (which rules out overlongs, surrogates and values past U+10FFFF).
    size_t extra;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c == 0xE0) {
      extra = 2;
      lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      extra = 2;
    } else if (c == 0xED) {
      extra = 2;
      hi = 0x9F;
    } else if (c == 0xF0) {
      extra = 3;
      lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      extra = 3;
    } else if (c == 0xF4) {
      extra = 3;
      hi = 0x8F;
    } else {
      return i;  // 0x80..0xC1 (continuation or overlong lead) or 0xF5..0xFF.
    }
    if (n - i <= extra) return i;  // truncated
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k <= extra; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
    }
    i += extra + 1;
  }
  return absl::string_view::npos;
}

// Returns true when `s` is well-formed UTF-8. Thread-safe.
inline bool IsValidUtf8(absl::string_view s) {
  return FindInvalidUtf8(s) == absl::string_view::npos;
}

}  // namespace utmstack_sink_internal

#endif  // UTMSTACK_SINK_INTERNAL_UTF8_H_
