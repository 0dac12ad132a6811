// Rewrites the golden JSON lines of every recorded answer: for each <name>.json in the
// golden directories, <name>.jsonl gets what ConvertAnswerToJsonLines makes of it with
// the golden options; likewise for the external answers of golden_options.h. Review
// the diff before committing it.
//
//   bazel run //loganalytics/convert:update_goldens
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "loganalytics/convert/internal/golden_options.h"
#include "loganalytics/convert/log_converter.h"

int main() {
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (workspace == nullptr) {
    std::fprintf(stderr, "update_goldens: run me with `bazel run`\n");
    return 2;
  }
  namespace ic = loganalytics::internal_convert;
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> pairs;
  for (const char* directory : ic::kGoldenDirectories) {
    const std::filesystem::path dir = std::filesystem::path(workspace) / directory;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() != ".json") continue;
      std::filesystem::path golden = entry.path();
      golden.replace_extension(".jsonl");
      pairs.emplace_back(entry.path(), golden);
    }
  }
  for (const ic::ExternalGolden& external : ic::kExternalGoldens) {
    pairs.emplace_back(std::filesystem::path(workspace) / external.answer,
                       std::filesystem::path(workspace) / external.golden);
  }
  int failures = 0;
  for (const auto& [answer, golden] : pairs) {
    std::ifstream in(answer, std::ios::binary);
    const std::string body((std::istreambuf_iterator<char>(in)),
                           std::istreambuf_iterator<char>());
    std::ostringstream out;
    absl::StatusOr<loganalytics::ConvertSummary> summary =
        loganalytics::ConvertAnswerToJsonLines(body, ic::GoldenOptions(), out);
    if (!summary.ok()) {
      std::fprintf(stderr, "%s: %s\n", answer.c_str(), summary.status().ToString().c_str());
      ++failures;
      continue;
    }
    std::ofstream(golden, std::ios::binary | std::ios::trunc) << out.str();
    std::printf("%s: %zu rows, partial_error: %s\n", golden.c_str(), summary->rows,
                summary->partial_error.ToString().c_str());
  }
  return failures == 0 ? 0 : 1;
}
