// File: loganalytics/convert/internal/json_text.h
//
// Small JSON text routines for the row converter: checking number and literal tokens,
// copying a string token while checking its escapes, unescaping a string's content,
// and escaping arbitrary UTF-8 into a JSON string. They work on bytes that simdjson's
// first stage has already checked (valid UTF-8, no raw control characters inside
// strings), except AppendEscapedJsonString, which accepts any bytes.
//
// Example:
//   std::string out;
//   if (!internal_convert::AppendJsonStringToken(R"("a\u00e9\n")", &out)) {
//     // the token has a malformed escape
//   }
//   internal_convert::AppendEscapedJsonString("tab\there", &out);  // "tab\there"
//
// Every function here is stateless and thread-safe.
#ifndef LOGANALYTICS_CONVERT_INTERNAL_JSON_TEXT_H_
#define LOGANALYTICS_CONVERT_INTERNAL_JSON_TEXT_H_

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"
#include "common/json_string.h"

namespace loganalytics {
namespace internal_convert {

// True for the four whitespace bytes JSON allows between tokens.
inline bool IsJsonWhitespace(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// Returns `token` without the JSON whitespace that follows it (simdjson's raw tokens
// run up to the next structural character).
inline absl::string_view TrimTrailingJsonWhitespace(absl::string_view token) {
  size_t n = token.size();
  while (n > 0 && IsJsonWhitespace(token[n - 1])) --n;
  return token.substr(0, n);
}

// True when `text` is exactly one JSON number (RFC 8259 grammar: no leading '+', no
// leading zeros, digits after '.', an exponent with digits).
inline bool IsJsonNumber(absl::string_view text) {
  const char* p = text.data();
  const char* end = p + text.size();
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  if (p < end && *p == '-') ++p;
  if (p == end) return false;
  if (*p == '0') {
    ++p;
  } else if (*p >= '1' && *p <= '9') {
    while (p < end && is_digit(*p)) ++p;
  } else {
    return false;
  }
  if (p < end && *p == '.') {
    ++p;
    if (p == end || !is_digit(*p)) return false;
    while (p < end && is_digit(*p)) ++p;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (p == end || !is_digit(*p)) return false;
    while (p < end && is_digit(*p)) ++p;
  }
  return p == end;
}

// For a token that IsJsonNumber accepts: true when common strict parsers (simdjson
// among them) can hold it, i.e. an integer within [-2^63, 2^64 - 1] or a number with a
// fraction or exponent whose value is a finite double. The converter keeps the others
// exactly, as strings.
inline bool IsRepresentableNumber(absl::string_view number) {
  const bool negative = !number.empty() && number[0] == '-';
  absl::string_view digits = number.substr(negative ? 1 : 0);
  size_t fraction_or_exponent = 0;
  while (fraction_or_exponent < digits.size() && digits[fraction_or_exponent] >= '0' &&
         digits[fraction_or_exponent] <= '9') {
    ++fraction_or_exponent;
  }
  if (fraction_or_exponent == digits.size()) {
    if (digits.size() < 19) return true;
    if (negative) {
      return digits.size() == 19 && digits <= absl::string_view("9223372036854775808");
    }
    return digits.size() == 19 ||
           (digits.size() == 20 && digits <= absl::string_view("18446744073709551615"));
  }
  // Magnitude estimate: integer digits plus the exponent.
  size_t exponent_at = fraction_or_exponent;
  while (exponent_at < digits.size() && digits[exponent_at] != 'e' &&
         digits[exponent_at] != 'E') {
    ++exponent_at;
  }
  if (exponent_at == digits.size()) exponent_at = absl::string_view::npos;
  const size_t integer_digits =
      fraction_or_exponent;  // digits before '.', 'e' or 'E'
  long exponent = 0;
  if (exponent_at != absl::string_view::npos) {
    absl::string_view e = digits.substr(exponent_at + 1);
    bool exponent_negative = false;
    if (!e.empty() && (e[0] == '+' || e[0] == '-')) {
      exponent_negative = e[0] == '-';
      e.remove_prefix(1);
    }
    while (!e.empty() && e[0] == '0') e.remove_prefix(1);
    if (e.size() > 5) return exponent_negative;  // tiny values round to 0; huge overflow
    for (char c : e) exponent = exponent * 10 + (c - '0');
    if (exponent_negative) exponent = -exponent;
  }
  const long magnitude = static_cast<long>(integer_digits) + exponent;
  if (magnitude < 300) return true;
  if (magnitude > 320) return false;
  // Near the limit of a double: let strtod decide.
  const std::string text(number.data(), number.size());
  const double value = std::strtod(text.c_str(), nullptr);
  return std::isfinite(value);
}

// Returns the value of one hex digit, or -1.
inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads the four hex digits at `p` (which must have 4 readable bytes); -1 if any
// of them is not a hex digit.
inline int32_t ReadHex4(const char* p) {
  int32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    const int digit = HexValue(p[i]);
    if (digit < 0) return -1;
    value = (value << 4) | digit;
  }
  return value;
}

// Appends code point `cp` (at most U+10FFFF, not a surrogate) as UTF-8 at `out`;
// returns the byte after the last one written.
inline char* WriteUtf8(uint32_t cp, char* out) {
  if (cp < 0x80) {
    *out++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out++ = static_cast<char>(0xC0 | (cp >> 6));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out++ = static_cast<char>(0xE0 | (cp >> 12));
    *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out++ = static_cast<char>(0xF0 | (cp >> 18));
    *out++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

// The result of decoding one `\u` escape (or a surrogate pair of them).
struct UnicodeEscape {
  uint32_t code_point = 0;  // U+FFFD for a surrogate without its partner
  size_t length = 0;        // bytes of input consumed: 6, or 12 for a pair; 0 = malformed
  bool replaced = false;    // a lone surrogate was replaced by U+FFFD
};

// Decodes the `\uXXXX` escape at `p` (p[0] == '\\', p[1] == 'u'); `end` bounds the
// input. A high surrogate followed by a `\u` low surrogate makes one code point; a
// surrogate without its partner becomes U+FFFD (length 6), since a lone surrogate
// cannot be written as UTF-8 and strict parsers reject it.
inline UnicodeEscape DecodeUnicodeEscape(const char* p, const char* end) {
  UnicodeEscape result;
  if (end - p < 6) return result;
  const int32_t first = ReadHex4(p + 2);
  if (first < 0) return result;
  if (first >= 0xD800 && first <= 0xDBFF) {
    if (end - p >= 12 && p[6] == '\\' && p[7] == 'u') {
      const int32_t second = ReadHex4(p + 8);
      if (second >= 0xDC00 && second <= 0xDFFF) {
        result.code_point = 0x10000 + ((static_cast<uint32_t>(first) - 0xD800) << 10) +
                            (static_cast<uint32_t>(second) - 0xDC00);
        result.length = 12;
        return result;
      }
    }
    result.code_point = 0xFFFD;
    result.replaced = true;
    result.length = 6;
    return result;
  }
  if (first >= 0xDC00 && first <= 0xDFFF) {
    result.code_point = 0xFFFD;
    result.replaced = true;
    result.length = 6;
    return result;
  }
  result.code_point = static_cast<uint32_t>(first);
  result.length = 6;
  return result;
}

// Returns the first backslash in [p, end), or nullptr. Inline and word-at-a-time:
// most strings here are short, where a call to memchr costs more than the scan.
inline const char* FindBackslash(const char* p, const char* end) {
  while (end - p >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    const uint64_t x = word ^ 0x5C5C5C5C5C5C5C5CULL;
    const uint64_t found = (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
    if (found != 0) return p + __builtin_ctzll(found) / 8;
    p += 8;
  }
  for (; p < end; ++p) {
    if (*p == '\\') return p;
  }
  return nullptr;
}

// Appends the JSON string token `token` (its quotes included, no trailing
// whitespace) to `out` as valid JSON. A token without backslashes is copied as is;
// otherwise each escape is checked, and a `\u` escape of a lone surrogate is written
// as `\ufffd`. Returns false, leaving `out` partly written, when an escape is malformed.
inline bool AppendJsonStringToken(absl::string_view token, std::string* out) {
  const char* p = token.data();
  const char* end = p + token.size();
  if (FindBackslash(p, end) == nullptr) {
    out->append(p, token.size());
    return true;
  }
  while (p < end) {
    const char* bs = FindBackslash(p, end);
    if (bs == nullptr) {
      out->append(p, end - p);
      return true;
    }
    if (end - bs < 2) return false;
    switch (bs[1]) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        out->append(p, bs + 2 - p);
        p = bs + 2;
        break;
      case 'u': {
        const UnicodeEscape escape = DecodeUnicodeEscape(bs, end);
        if (escape.length == 0) return false;
        if (escape.replaced) {
          out->append(p, bs - p);
          out->append("\\ufffd");
        } else {
          out->append(p, bs + escape.length - p);
        }
        p = bs + escape.length;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

// Appends the unescaped UTF-8 of `content` (a JSON string's bytes between its quotes)
// to `out`. Lone surrogates become U+FFFD. Returns false when an escape is malformed
// or `content` ends in the middle of one.
inline bool UnescapeJsonString(absl::string_view content, std::string* out) {
  const size_t start = out->size();
  // Unescaping never makes the text longer: each escape is at least as long as the
  // bytes it stands for (6 bytes of `\uXXXX` give at most 3, 12 give 4).
  out->resize(start + content.size());
  char* dst = &(*out)[start];
  const char* p = content.data();
  const char* end = p + content.size();
  while (p < end) {
    // Copy the run up to the next backslash, 8 bytes at a time.
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      const uint64_t x = word ^ 0x5C5C5C5C5C5C5C5CULL;  // zero bytes where '\\' was
      const uint64_t found = (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
      if (found == 0) {
        std::memcpy(dst, p, 8);
        dst += 8;
        p += 8;
        continue;
      }
      const int n = __builtin_ctzll(found) / 8;
      std::memcpy(dst, p, 8);  // the bytes past the backslash are overwritten below
      dst += n;
      p += n;
      break;
    }
    if (p == end) break;
    const char c = *p;
    if (c != '\\') {
      *dst++ = c;
      ++p;
      continue;
    }
    if (end - p < 2) return false;
    switch (p[1]) {
      case '"': *dst++ = '"'; p += 2; break;
      case '\\': *dst++ = '\\'; p += 2; break;
      case '/': *dst++ = '/'; p += 2; break;
      case 'b': *dst++ = '\b'; p += 2; break;
      case 'f': *dst++ = '\f'; p += 2; break;
      case 'n': *dst++ = '\n'; p += 2; break;
      case 'r': *dst++ = '\r'; p += 2; break;
      case 't': *dst++ = '\t'; p += 2; break;
      case 'u': {
        const UnicodeEscape escape = DecodeUnicodeEscape(p, end);
        if (escape.length == 0) return false;
        dst = WriteUtf8(escape.code_point, dst);
        p += escape.length;
        break;
      }
      default:
        return false;
    }
  }
  out->resize(dst - out->data());
  return true;
}

// The deepest nesting AppendMinifiedJson accepts: below simdjson's default limit of
// 1024, with room for the object that contains the value.
inline constexpr int kMaxJsonDepth = 1000;

// Checks that `json` is exactly one JSON value (RFC 8259, whitespace around it
// allowed) that strict parsers accept, and appends it to `out` without the whitespace
// outside strings. Stricter than the grammar where simdjson is: numbers must pass
// IsRepresentableNumber, a `\u` escape of a surrogate must be a proper pair, nesting
// is limited to kMaxJsonDepth. `json` must be valid UTF-8. Returns false when `json`
// is not such a value; `out` then holds a partial append the caller discards.
// Sets `*is_null` when the value is the literal null.
inline bool AppendMinifiedJson(absl::string_view json, std::string* out, bool* is_null) {
  const char* p = json.data();
  const char* const end = p + json.size();
  // Minified output is never longer than the input.
  const size_t start = out->size();
  out->resize(start + json.size());
  char* dst = &(*out)[start];
  // Container stack: true for an object. `expect_key` means a string key comes next.
  bool stack[kMaxJsonDepth];
  int depth = 0;
  auto skip_whitespace = [&] {
    while (p < end && IsJsonWhitespace(*p)) ++p;
  };
  auto is_delimiter = [](char c) {
    return c == ',' || c == ']' || c == '}' || IsJsonWhitespace(c);
  };
  // Copies a string starting at its opening quote; false when malformed.
  auto copy_string = [&]() -> bool {
    *dst++ = *p++;  // '"'
    for (;;) {
      // Plain bytes, 8 at a time.
      while (end - p >= 8) {
        uint64_t word;
        std::memcpy(&word, p, 8);
        const uint64_t quote = word ^ 0x2222222222222222ULL;
        const uint64_t slash = word ^ 0x5C5C5C5C5C5C5C5CULL;
        const uint64_t found =
            ((quote - 0x0101010101010101ULL) & ~quote) |
            ((slash - 0x0101010101010101ULL) & ~slash) |
            ((word - 0x2020202020202020ULL) & ~word);  // bytes below 0x20
        const uint64_t mask = found & 0x8080808080808080ULL;
        std::memcpy(dst, p, 8);
        if (mask == 0) {
          dst += 8;
          p += 8;
          continue;
        }
        const int n = __builtin_ctzll(mask) / 8;
        dst += n;
        p += n;
        break;
      }
      if (p == end) return false;
      const unsigned char c = static_cast<unsigned char>(*p);
      if (c == '"') {
        *dst++ = *p++;
        return true;
      }
      if (c < 0x20) return false;
      if (c != '\\') {
        *dst++ = *p++;
        continue;
      }
      if (end - p < 2) return false;
      switch (p[1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
          *dst++ = *p++;
          *dst++ = *p++;
          break;
        case 'u': {
          const UnicodeEscape escape = DecodeUnicodeEscape(p, end);
          if (escape.length == 0 || escape.replaced) return false;
          std::memcpy(dst, p, escape.length);
          dst += escape.length;
          p += escape.length;
          break;
        }
        default:
          return false;
      }
    }
  };

  *is_null = false;
  skip_whitespace();
  if (p == end) return false;
  if (end - p >= 4 && std::memcmp(p, "null", 4) == 0) {
    const char* after = p + 4;
    while (after < end && IsJsonWhitespace(*after)) ++after;
    if (after == end) {
      *is_null = true;
      out->resize(start);
      return true;
    }
  }
  bool expect_key = false;
  for (;;) {
    // A value (or, in an object, a key and its value) is expected at p.
    skip_whitespace();
    if (p == end) return false;
    if (expect_key) {
      if (*p != '"' || !copy_string()) return false;
      skip_whitespace();
      if (p == end || *p != ':') return false;
      *dst++ = *p++;
      skip_whitespace();
      if (p == end) return false;
      expect_key = false;
    }
    const char c = *p;
    bool opened = false;
    if (c == '{' || c == '[') {
      if (depth == kMaxJsonDepth) return false;
      stack[depth++] = c == '{';
      *dst++ = *p++;
      skip_whitespace();
      if (p == end) return false;
      if (*p == (c == '{' ? '}' : ']')) {
        *dst++ = *p++;
        --depth;
      } else {
        expect_key = c == '{';
        opened = true;
      }
    } else if (c == '"') {
      if (!copy_string()) return false;
    } else if (c == 't' || c == 'f' || c == 'n') {
      const char* literal = c == 't' ? "true" : c == 'f' ? "false" : "null";
      const size_t length = c == 'f' ? 5 : 4;
      if (static_cast<size_t>(end - p) < length || std::memcmp(p, literal, length) != 0) {
        return false;
      }
      if (p + length < end && !is_delimiter(p[length])) return false;
      std::memcpy(dst, p, length);
      dst += length;
      p += length;
    } else {
      const char* number_end = p;
      while (number_end < end && !is_delimiter(*number_end)) ++number_end;
      const absl::string_view number(p, number_end - p);
      if (!IsJsonNumber(number) || !IsRepresentableNumber(number)) return false;
      std::memcpy(dst, p, number.size());
      dst += number.size();
      p = number_end;
    }
    if (opened) continue;
    // After a value: close containers, or move to the next element.
    for (;;) {
      skip_whitespace();
      if (depth == 0) {
        if (p != end) return false;
        out->resize(dst - out->data());
        return true;
      }
      if (p == end) return false;
      const bool in_object = stack[depth - 1];
      if (*p == ',') {
        *dst++ = *p++;
        expect_key = in_object;
        break;
      }
      if (*p == (in_object ? '}' : ']')) {
        *dst++ = *p++;
        --depth;
        continue;
      }
      return false;
    }
  }
}

// What AppendDynamicJson made of a dynamic cell.
enum class DynamicJson {
  kNested,    // valid JSON: appended, minified
  kNull,      // the JSON literal null: nothing appended
  kFallback,  // not decided here (an escape this pass does not decode, such as
              // \uXXXX, or content that is not JSON): nothing appended; unescape it
              // and use AppendMinifiedJson, which decides
};

// One pass over `escaped`, the bytes between the quotes of a JSON string token whose
// content should itself be JSON (a Log Analytics dynamic cell, e.g.
// {\"city\":\"Redmond\"}): decodes the string's escapes, checks the JSON and appends
// it minified to `out`. Gives the same answers as UnescapeJsonString followed by
// AppendMinifiedJson, without the intermediate copy, for valid JSON whose only escapes
// are \" \\ \/ \n \r \t (what serializers write for compact JSON in a string);
// anything else, including every invalid input, returns kFallback. `escaped` must be
// the content of a string token that simdjson's first stage accepted: valid UTF-8, no
// raw control characters, every quote escaped.
inline DynamicJson AppendDynamicJson(absl::string_view escaped, std::string* out) {
  const char* p = escaped.data();
  const char* const end = p + escaped.size();
  const size_t start = out->size();
  out->resize(start + escaped.size());  // the decoded, minified text is never longer
  char* dst = &(*out)[start];
  bool stack[kMaxJsonDepth];
  int depth = 0;
  auto fail = [&] {
    out->resize(start);
    return DynamicJson::kFallback;
  };
  // Skips decoded whitespace: ' ' and the escapes \n \r \t.
  auto skip_whitespace = [&] {
    for (;;) {
      if (p < end && *p == ' ') {
        ++p;
      } else if (end - p >= 2 && p[0] == '\\' &&
                 (p[1] == 'n' || p[1] == 'r' || p[1] == 't')) {
        p += 2;
      } else {
        return;
      }
    }
  };
  // Copies an inner string; p is at its opening \" . False when it is malformed or
  // uses an escape this pass does not decode.
  auto copy_string = [&]() -> bool {
    p += 2;
    *dst++ = '"';
    for (;;) {
      while (end - p >= 8) {  // bytes that decode to themselves, 8 at a time
        uint64_t word;
        std::memcpy(&word, p, 8);
        const uint64_t x = word ^ 0x5C5C5C5C5C5C5C5CULL;
        const uint64_t found = (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
        std::memcpy(dst, p, 8);
        if (found == 0) {
          dst += 8;
          p += 8;
          continue;
        }
        const int n = __builtin_ctzll(found) / 8;
        dst += n;
        p += n;
        break;
      }
      if (p == end) return false;
      if (*p != '\\') {
        *dst++ = *p++;
        continue;
      }
      if (end - p < 2) return false;
      const char e = p[1];
      if (e == '"') {  // the inner string ends
        p += 2;
        *dst++ = '"';
        return true;
      }
      if (e == '/') {
        p += 2;
        *dst++ = '/';
        continue;
      }
      if (e != '\\') {
        // \n \r \t \b \f decode to raw control characters: not allowed in a string.
        if (e == 'n' || e == 'r' || e == 't' || e == 'b' || e == 'f') return false;
        return false;  // \uXXXX, or a malformed escape

      }
      // \\ : an escape of the inner string; what follows is encoded too.
      p += 2;
      if (p == end) return false;
      char inner = *p;
      size_t inner_length = 1;
      if (inner == '\\') {
        if (end - p < 2) return false;
        if (p[1] == '"' || p[1] == '\\' || p[1] == '/') {
          inner = p[1];
          inner_length = 2;
        } else {
          return false;
        }
      }
      switch (inner) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
          *dst++ = '\\';
          *dst++ = inner;
          p += inner_length;
          break;
        case 'u': {
          // \uXXXX of the inner string, written \\uXXXX here; a high surrogate must be
          // followed by \\u and a low one.
          if (end - p < 5) return false;
          const int32_t first = ReadHex4(p + 1);
          if (first < 0) return false;
          size_t length = 5;
          if (first >= 0xDC00 && first <= 0xDFFF) return false;
          if (first >= 0xD800 && first <= 0xDBFF) {
            if (end - p < 12 || p[5] != '\\' || p[6] != '\\' || p[7] != 'u') return false;
            const int32_t second = ReadHex4(p + 8);
            if (second < 0xDC00 || second > 0xDFFF) return false;
            length = 12;
          }
          *dst++ = '\\';
          std::memcpy(dst, p, 5);
          dst += 5;
          if (length == 12) {
            *dst++ = '\\';
            std::memcpy(dst, p + 7, 5);
            dst += 5;
          }
          p += length;
          break;
        }
        default:
          return false;
      }
    }
  };
  auto at_string = [&] { return end - p >= 2 && p[0] == '\\' && p[1] == '"'; };

  skip_whitespace();
  if (p == end) return fail();
  if (end - p >= 4 && std::memcmp(p, "null", 4) == 0) {
    const char* saved = p;
    p += 4;
    skip_whitespace();
    if (p == end) {
      out->resize(start);
      return DynamicJson::kNull;
    }
    p = saved;
  }
  bool expect_key = false;
  for (;;) {
    skip_whitespace();
    if (p == end) return fail();
    if (expect_key) {
      if (!at_string() || !copy_string()) return fail();
      skip_whitespace();
      if (p == end || *p != ':') return fail();
      *dst++ = *p++;
      skip_whitespace();
      if (p == end) return fail();
      expect_key = false;
    }
    const char c = *p;
    bool opened = false;
    if (c == '{' || c == '[') {
      if (depth == kMaxJsonDepth) return fail();
      stack[depth++] = c == '{';
      *dst++ = *p++;
      skip_whitespace();
      if (p == end) return fail();
      if (*p == (c == '{' ? '}' : ']')) {
        *dst++ = *p++;
        --depth;
      } else {
        expect_key = c == '{';
        opened = true;
      }
    } else if (c == '\\') {
      if (!at_string()) return fail();
      if (!copy_string()) return fail();
    } else if (c == 't' || c == 'f' || c == 'n') {
      const char* literal = c == 't' ? "true" : c == 'f' ? "false" : "null";
      const size_t length = c == 'f' ? 5 : 4;
      if (static_cast<size_t>(end - p) < length || std::memcmp(p, literal, length) != 0) {
        return fail();
      }
      std::memcpy(dst, p, length);
      dst += length;
      p += length;
    } else {
      const char* number_end = p;
      while (number_end < end &&
             ((*number_end >= '0' && *number_end <= '9') || *number_end == '-' ||
              *number_end == '+' || *number_end == '.' || *number_end == 'e' ||
              *number_end == 'E')) {
        ++number_end;
      }
      const absl::string_view number(p, number_end - p);
      if (!IsJsonNumber(number) || !IsRepresentableNumber(number)) {
        return fail();
      }
      std::memcpy(dst, p, number.size());
      dst += number.size();
      p = number_end;
    }
    if (opened) continue;
    for (;;) {
      skip_whitespace();
      if (depth == 0) {
        if (p != end) return fail();
        out->resize(dst - out->data());
        return DynamicJson::kNested;
      }
      if (p == end) return fail();
      const bool in_object = stack[depth - 1];
      if (*p == ',') {
        *dst++ = *p++;
        expect_key = in_object;
        break;
      }
      if (*p == (in_object ? '}' : ']')) {
        *dst++ = *p++;
        --depth;
        continue;
      }
      return fail();
    }
  }
}

// Appends `text` (any bytes, expected UTF-8) to `out` as a JSON string with its
// quotes: '"' and '\\' escaped, control characters as \n, \t, ... or \u00XX. Bytes
// that are not valid UTF-8 are written as U+FFFD so the result is always valid JSON.
inline void AppendEscapedJsonString(absl::string_view text, std::string* out) {
  out->push_back('"');
  const unsigned char* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* end = p + text.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      out->push_back(static_cast<char>(c));
      ++p;
      continue;
    }
    if (c < 0x80) {  // '"', '\\' or a control character
      common::AppendJsonEscape(c, out);
      ++p;
      continue;
    }
    // A multi-byte sequence: copy it when it is well-formed UTF-8.
    size_t length = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      length = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4;
      cp = c & 0x07;
    }
    bool valid = length != 0 && static_cast<size_t>(end - p) >= length;
    for (size_t i = 1; valid && i < length; ++i) {
      if ((p[i] & 0xC0) != 0x80) {
        valid = false;
      } else {
        cp = (cp << 6) | (p[i] & 0x3F);
      }
    }
    if (valid) {
      const uint32_t min_for_length[] = {0, 0, 0x80, 0x800, 0x10000};
      valid = cp >= min_for_length[length] && cp <= 0x10FFFF &&
              !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (valid) {
      out->append(reinterpret_cast<const char*>(p), length);
      p += length;
    } else {
      out->append("\xEF\xBF\xBD");  // U+FFFD
      ++p;
    }
  }
  out->push_back('"');
}

}  // namespace internal_convert
}  // namespace loganalytics

#endif  // LOGANALYTICS_CONVERT_INTERNAL_JSON_TEXT_H_
