// File: loganalytics/convert/internal/golden_options.h
//
// The fixed ConvertOptions behind the checked-in golden files (testdata/answers/*.jsonl):
// the golden test and the program that rewrites the goldens must use the same ones.
//
// Example:
//   std::ostringstream out;
//   loganalytics::ConvertAnswerToJsonLines(body, internal_convert::GoldenOptions(), out);
//
// Thread-safe: returns a new value each call.
#ifndef LOGANALYTICS_CONVERT_INTERNAL_GOLDEN_OPTIONS_H_
#define LOGANALYTICS_CONVERT_INTERNAL_GOLDEN_OPTIONS_H_

#include "absl/time/time.h"
#include "loganalytics/convert/log_converter.h"

namespace loganalytics {
namespace internal_convert {

inline ConvertOptions GoldenOptions() {
  ConvertOptions options;
  options.workspace_id = "b3a1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
  options.data_source = "golden-workspace";
  // 2024-05-02T00:00:00.5Z: rows without TimeGenerated or ingestion time get this.
  options.clock = [] { return absl::FromUnixMillis(1714608000500); };
  return options;
}

// The recorded answers the goldens cover, as workspace-relative directories: each
// <name>.json there has its golden in <name>.jsonl beside it.
inline constexpr const char* kGoldenDirectories[] = {"testdata/answers"};

// Recorded answers kept elsewhere (testdata/azure belongs to the fakes), with their
// goldens in testdata/answers.
struct ExternalGolden {
  const char* answer;
  const char* golden;
};
inline constexpr ExternalGolden kExternalGoldens[] = {
    {"testdata/azure/query_answer.json", "testdata/answers/azure_query_answer.jsonl"},
    {"testdata/azure/query_partial_error.json",
     "testdata/answers/azure_query_partial_error.jsonl"},
};

}  // namespace internal_convert
}  // namespace loganalytics

#endif  // LOGANALYTICS_CONVERT_INTERNAL_GOLDEN_OPTIONS_H_
