// File: utmstack_sink/internal/validate_log.h
//
// The checks a sink runs before it takes a plugins::Log: every string field must be
// well-formed UTF-8 (proto3 requires it and the engine drops the whole stream on a
// Log it cannot decode), and the serialized Log must fit the receiver's message limit.
// A Log that fails is one the engine can never accept, so the sink refuses it at once
// with kInvalidArgument instead of retrying it forever.
//
// Example:
//   if (absl::Status s = utmstack_sink_internal::ValidateLog(log, 4 << 20); !s.ok()) {
//     return s;   // kInvalidArgument: "log 7f3c...: field raw is not valid UTF-8 ..."
//   }
//
// Thread-safe (pure).
#ifndef UTMSTACK_SINK_INTERNAL_VALIDATE_LOG_H_
#define UTMSTACK_SINK_INTERNAL_VALIDATE_LOG_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "proto/plugins.pb.h"
#include "utmstack_sink/internal/utf8.h"

namespace utmstack_sink_internal {

// A short, printable form of a Log id for error messages (ids come from the data and
// may be long or not UTF-8).
inline std::string PrintableId(absl::string_view id) {
  constexpr size_t kMax = 64;
  std::string out;
  for (char c : id.substr(0, kMax)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7F ? c : '?');
  }
  if (id.size() > kMax) out += "...";
  return out.empty() ? std::string("(empty)") : out;
}

// Returns OK when `log` can be sent; otherwise kInvalidArgument naming the Log id, the
// field and the byte offset of the first bad UTF-8 byte. Does not check the size.
// Thread-safe.
inline absl::Status ValidateLogUtf8(const plugins::Log& log) {
  const struct {
    const char* name;
    const std::string& value;
  } fields[] = {
      {"id", log.id()},
      {"dataType", log.datatype()},
      {"dataSource", log.datasource()},
      {"timestamp", log.timestamp()},
      {"tenantId", log.tenantid()},
      {"raw", log.raw()},
  };
  for (const auto& f : fields) {
    const size_t bad = FindInvalidUtf8(f.value);
    if (bad != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("log ", PrintableId(log.id()), ": field ", f.name,
                       " is not valid UTF-8 (first bad byte at offset ", bad,
                       "); the engine cannot decode it: fix the event conversion"));
    }
  }
  return absl::OkStatus();
}

// Returns OK when `log` is well-formed and its serialized size (`serialized_bytes`,
// from ByteSizeLong()) is at most `max_bytes`; otherwise kInvalidArgument saying which.
// Thread-safe.
inline absl::Status ValidateLog(const plugins::Log& log, size_t serialized_bytes,
                                size_t max_bytes) {
  if (serialized_bytes > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "log ", PrintableId(log.id()), " is ", serialized_bytes,
        " bytes serialized, over the ", max_bytes,
        "-byte limit for one message to the engine: trim or split the event"));
  }
  return ValidateLogUtf8(log);
}

}  // namespace utmstack_sink_internal

#endif  // UTMSTACK_SINK_INTERNAL_VALIDATE_LOG_H_
