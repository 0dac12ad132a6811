// Fuzzes ConvertAnswer with arbitrary bytes: it must never crash or leak, and either
// return kInvalidArgument / kDataLoss or emit Logs whose raw is a JSON object (checked
// with simdjson's DOM parser), whose id is UUID-shaped and whose timestamp is set. The
// copying and the in-place (padded) paths must emit the same Logs, a converter reading
// the rows in tiny windows must give the same Logs and outcome, and the JSON-lines
// output must be one JSON object per Log. The input is also fed, as the content of a
// dynamic cell, to the one-pass decoder, which must agree with the two-pass one.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "loganalytics/convert/internal/json_text.h"
#include "loganalytics/convert/log_converter.h"
#include "proto/plugins.pb.h"
#include "simdjson.h"

namespace {

void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "log_converter_fuzzer: %s\n", what);
    std::abort();
  }
}

}  // namespace

// The one-pass dynamic decoder's precondition (what a string token's content is):
// valid UTF-8, no raw control characters, no quote that is not escaped.
void CheckDynamicDecoders(absl::string_view content) {
  bool escaped = false;
  for (char c : content) {
    if (static_cast<unsigned char>(c) < 0x20) return;
    if (c == '"' && !escaped) return;
    escaped = c == '\\' && !escaped;
  }
  if (escaped) return;  // a string cannot end in the middle of an escape
  if (!simdjson::validate_utf8(content.data(), content.size())) return;
  namespace ic = loganalytics::internal_convert;
  std::string one;
  const ic::DynamicJson result = ic::AppendDynamicJson(content, &one);
  if (result == ic::DynamicJson::kFallback) {
    Check(one.empty(), "fallback left bytes behind");
    return;
  }
  std::string unescaped, two;
  bool is_null = false;
  Check(ic::UnescapeJsonString(content, &unescaped), "one pass accepted a bad escape");
  Check(ic::AppendMinifiedJson(unescaped, &two, &is_null), "one pass accepted non-JSON");
  Check(is_null == (result == ic::DynamicJson::kNull), "one pass disagrees on null");
  Check(one == two, "one pass and two passes give different JSON");
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  CheckDynamicDecoders(body);
  loganalytics::ConvertOptions options;
  options.workspace_id = "fuzz";
  options.clock = [] { return absl::FromUnixSeconds(1714608000); };
  options.keep_empty_strings = size % 2 == 0;

  simdjson::dom::parser parser;
  std::vector<std::string> copied;
  absl::StatusOr<loganalytics::ConvertSummary> summary = loganalytics::ConvertAnswer(
      body, options, [&](plugins::Log&& log, const loganalytics::RowMeta&) {
        simdjson::dom::object raw;
        Check(parser.parse(log.raw()).get(raw) == simdjson::SUCCESS,
              "raw is not a JSON object");
        Check(log.id().size() == 36, "id is not UUID-shaped");
        Check(!log.timestamp().empty(), "timestamp is empty");
        copied.push_back(log.SerializeAsString());
        return absl::OkStatus();
      });
  if (!summary.ok()) {
    const absl::StatusCode code = summary.status().code();
    Check(code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kDataLoss,
          "unexpected status code");
    Check(!summary.status().message().empty(), "error without a message");
  } else {
    Check(summary->rows == copied.size(), "row count differs from emitted Logs");
  }

  std::string padded(body.data(), body.size());
  padded.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  std::vector<std::string> in_place;
  absl::StatusOr<loganalytics::ConvertSummary> padded_summary =
      loganalytics::ConvertPaddedAnswer(
          simdjson::padded_string_view(padded), options,
          [&](plugins::Log&& log, const loganalytics::RowMeta&) {
            in_place.push_back(log.SerializeAsString());
            return absl::OkStatus();
          });
  Check(padded_summary.ok() == summary.ok(), "padded and copying paths disagree");
  Check(in_place == copied, "padded and copying paths emit different Logs");

  // Rows read in small windows, through each entry point (windows read in place in
  // Convert's copy, copied from a padded view, in place in the caller's string): the
  // same Logs and the same outcome, message included; the caller's string unchanged.
  for (int entry = 0; entry < 3; ++entry) {
    loganalytics::LogConverter windowed(options);
    windowed.SetWindowBytesForTesting(1 + size % 13);
    std::vector<std::string> windowed_logs;
    const loganalytics::LogEmitter keep = [&](plugins::Log&& log,
                                              const loganalytics::RowMeta&) {
      windowed_logs.push_back(log.SerializeAsString());
      return absl::OkStatus();
    };
    std::string mine(body.data(), body.size());
    absl::StatusOr<loganalytics::ConvertSummary> windowed_summary =
        entry == 0   ? windowed.Convert(body, keep)
        : entry == 1 ? windowed.ConvertPadded(simdjson::padded_string_view(padded), keep)
                     : windowed.ConvertInPlace(&mine, keep);
    Check(mine == body, "ConvertInPlace left the body changed");
    if (windowed_summary.status() != summary.status()) {
      std::fprintf(stderr, "entry %d\nwhole: %s\nwindows: %s\n", entry,
                   summary.status().ToString().c_str(),
                   windowed_summary.status().ToString().c_str());
    }
    Check(windowed_summary.status() == summary.status(), "windows change the status");
    if (summary.ok()) {
      Check(windowed_logs == copied, "windows change the Logs");
      Check(windowed_summary->rows == summary->rows &&
                windowed_summary->tables == summary->tables &&
                windowed_summary->partial_error == summary->partial_error,
            "windows change the summary");
    }
  }

  if (summary.ok()) {
    std::ostringstream out;
    absl::StatusOr<loganalytics::ConvertSummary> lines =
        loganalytics::ConvertAnswerToJsonLines(body, options, out);
    Check(lines.ok(), "JSON lines failed where the conversion succeeded");
    std::istringstream in(out.str());
    std::string line;
    size_t count = 0;
    while (std::getline(in, line)) {
      simdjson::dom::object object;
      Check(parser.parse(line).get(object) == simdjson::SUCCESS, "a JSON line is not JSON");
      ++count;
    }
    Check(count == copied.size(), "JSON line count differs");
  }
  return 0;
}
