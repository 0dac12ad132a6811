// Fuzzes the Log Analytics error mapping. Input: an optional first line
// "<http status> [<Retry-After value>]\n", then the body. Without that line the status
// is 400 and the whole input is the body.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "http/http_transport.h"
#include "loganalytics/query_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  int status = 400;
  http::Headers headers;
  size_t newline = input.find('\n');
  if (newline != absl::string_view::npos && newline <= 32) {
    absl::string_view line = input.substr(0, newline);
    size_t space = line.find(' ');
    int parsed = 0;
    if (absl::SimpleAtoi(line.substr(0, space), &parsed)) {
      status = parsed;
      if (space != absl::string_view::npos) {
        headers.push_back({"Retry-After", std::string(line.substr(space + 1))});
      }
      input.remove_prefix(newline + 1);
    }
  }
  absl::Status s = loganalytics::ParseQueryError(status, input, headers);
  if (status < 200 || status >= 300) {
    if (s.ok()) __builtin_trap();  // an error status must never map to OK
    if (s.message().find("body: ") == absl::string_view::npos) __builtin_trap();
  }
  (void)loganalytics::RetryAfter(s);
  (void)loganalytics::MissingTable(s);
  std::optional<loganalytics::QueryErrorEnvelope> envelope =
      loganalytics::ParseErrorEnvelope(input);
  (void)envelope;
  return 0;
}
