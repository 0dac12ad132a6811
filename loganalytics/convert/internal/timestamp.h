// File: loganalytics/convert/internal/timestamp.h
//
// RFC 3339 timestamps for Log.timestamp. Log Analytics writes datetimes in UTC with a
// 'Z' and 0 to 7 fractional digits ("2024-01-01T00:00:00.1234567Z"); the engine
// expects RFC 3339 in UTC with at most 9 fractional digits. NormalizeRfc3339 writes
// the canonical form used throughout the converter, the one Go's time.RFC3339Nano
// produces: trailing fractional zeros dropped, no '.' when the fraction is zero,
// 'Z' for UTC. Values with a numeric offset are converted to UTC.
//
// Example:
//   std::string ts;
//   internal_convert::NormalizeRfc3339("2024-01-01T00:00:00.1234500Z", &ts);
//   // ts == "2024-01-01T00:00:00.12345Z"
//   internal_convert::NormalizeRfc3339("2024-01-01T02:00:00+02:00", &ts);
//   // ts == "2024-01-01T00:00:00Z"
//
// Thread-safe: stateless.
#ifndef LOGANALYTICS_CONVERT_INTERNAL_TIMESTAMP_H_
#define LOGANALYTICS_CONVERT_INTERNAL_TIMESTAMP_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace loganalytics {
namespace internal_convert {

// Formats `t` as RFC 3339 in UTC with up to 9 fractional digits (trailing zeros
// dropped), e.g. "2024-01-01T00:00:00.5Z".
inline std::string FormatRfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

namespace timestamp_detail {

inline bool Digits(absl::string_view s, size_t pos, size_t count, int* value) {
  int v = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *value = v;
  return true;
}

inline int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[month - 1];
}

}  // namespace timestamp_detail

// Writes the canonical form of the RFC 3339 date-time `text` to `*out` and returns
// true; returns false (leaving `*out` unspecified) when `text` is not a date-time of
// the form YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm). Fractions longer than 9
// digits are truncated to nanoseconds.
inline bool NormalizeRfc3339(absl::string_view text, std::string* out) {
  using timestamp_detail::Digits;
  if (text.size() < 20) return false;
  int year, month, day, hour, minute, second;
  if (!Digits(text, 0, 4, &year) || text[4] != '-' || !Digits(text, 5, 2, &month) ||
      text[7] != '-' || !Digits(text, 8, 2, &day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      !Digits(text, 11, 2, &hour) || text[13] != ':' || !Digits(text, 14, 2, &minute) ||
      text[16] != ':' || !Digits(text, 17, 2, &second)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 ||
      day > timestamp_detail::DaysInMonth(year, month) || hour > 23 || minute > 59 ||
      second > 59) {
    return false;
  }
  size_t pos = 19;
  size_t fraction_begin = pos, fraction_end = pos;
  if (text[pos] == '.') {
    ++pos;
    fraction_begin = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    fraction_end = pos;
    if (fraction_end == fraction_begin) return false;
  }
  if (pos >= text.size()) return false;
  const char zone = text[pos];
  if ((zone == 'Z' || zone == 'z') && pos + 1 == text.size()) {
    // Already UTC: keep the date and time, trim the fraction.
    size_t kept_end = fraction_end;
    if (kept_end - fraction_begin > 9) kept_end = fraction_begin + 9;
    while (kept_end > fraction_begin && text[kept_end - 1] == '0') --kept_end;
    out->assign(text.data(), 19);
    if (kept_end > fraction_begin) {
      out->push_back('.');
      out->append(text.data() + fraction_begin, kept_end - fraction_begin);
    }
    (*out)[10] = 'T';
    out->push_back('Z');
    return true;
  }
  if ((zone != '+' && zone != '-') || pos + 6 != text.size() || text[pos + 3] != ':') {
    return false;
  }
  int offset_hours, offset_minutes;
  if (!Digits(text, pos + 1, 2, &offset_hours) ||
      !Digits(text, pos + 4, 2, &offset_minutes) || offset_hours > 23 ||
      offset_minutes > 59) {
    return false;
  }
  // A numeric offset: compute the instant and print it in UTC.
  const absl::CivilSecond civil(year, month, day, hour, minute, second);
  absl::Time t = absl::FromCivil(civil, absl::UTCTimeZone());
  const int offset_seconds = (offset_hours * 60 + offset_minutes) * 60;
  t -= absl::Seconds(zone == '+' ? offset_seconds : -offset_seconds);
  int64_t nanos = 0;
  for (size_t i = fraction_begin; i < fraction_begin + 9; ++i) {
    nanos = nanos * 10 + (i < fraction_end ? text[i] - '0' : 0);
  }
  t += absl::Nanoseconds(nanos);
  *out = FormatRfc3339(t);
  return true;
}

}  // namespace internal_convert
}  // namespace loganalytics

#endif  // LOGANALYTICS_CONVERT_INTERNAL_TIMESTAMP_H_
