// Checks FindInvalidUtf8 (with its 32- and eight-byte ASCII fast paths) against a plain decoder
// that follows Unicode's definition: decode each sequence to a code point, then reject
// overlongs, surrogates and values past U+10FFFF.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "utmstack_sink/internal/utf8.h"

namespace {

size_t ReferenceFindInvalid(const uint8_t* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    const uint8_t c = p[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    const uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return absl::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view s(reinterpret_cast<const char*>(data), size);
  const size_t got = utmstack_sink_internal::FindInvalidUtf8(s);
  const size_t want = ReferenceFindInvalid(data, size);
  if (got != want) std::abort();
  if (utmstack_sink_internal::IsValidUtf8(s) != (want == absl::string_view::npos)) {
    std::abort();
  }
  return 0;
}
