// Each recorded answer in the golden directories (testdata/answers/*.json) must convert
// to exactly its checked-in JSON lines (*.jsonl). Rewrite them with
// `bazel run //loganalytics/convert:update_goldens` and review the diff.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loganalytics/convert/internal/golden_options.h"
#include "loganalytics/convert/log_converter.h"

namespace loganalytics {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::filesystem::path Runfile(const std::string& relative) {
  return std::filesystem::path(std::getenv("TEST_SRCDIR")) / std::getenv("TEST_WORKSPACE") /
         relative;
}

struct Golden {
  std::filesystem::path answer;
  std::filesystem::path golden;
};

std::vector<Golden> Goldens() {
  std::vector<Golden> goldens;
  for (const char* directory : internal_convert::kGoldenDirectories) {
    for (const auto& entry : std::filesystem::directory_iterator(Runfile(directory))) {
      if (entry.path().extension() != ".json") continue;
      std::filesystem::path golden = entry.path();
      golden.replace_extension(".jsonl");
      goldens.push_back({entry.path(), golden});
    }
  }
  std::sort(goldens.begin(), goldens.end(),
            [](const Golden& a, const Golden& b) { return a.answer < b.answer; });
  for (const internal_convert::ExternalGolden& external : internal_convert::kExternalGoldens) {
    goldens.push_back({Runfile(external.answer), Runfile(external.golden)});
  }
  return goldens;
}

TEST(LogConverterGoldenTest, EveryRecordedAnswerMatchesItsGolden) {
  const std::vector<Golden> goldens = Goldens();
  ASSERT_GE(goldens.size(), 10u) << "the recorded answers are missing from the runfiles";
  size_t lines = 0;
  for (const Golden& g : goldens) {
    const std::string name = g.answer.filename().string();
    SCOPED_TRACE(name);
    ASSERT_TRUE(std::filesystem::exists(g.answer)) << g.answer;
    ASSERT_TRUE(std::filesystem::exists(g.golden))
        << g.golden << " is missing: run bazel run //loganalytics/convert:update_goldens";
    std::ostringstream out;
    absl::StatusOr<ConvertSummary> summary =
        ConvertAnswerToJsonLines(ReadFile(g.answer), internal_convert::GoldenOptions(), out);
    ASSERT_TRUE(summary.ok()) << summary.status();
    const std::string expected = ReadFile(g.golden);
    EXPECT_EQ(out.str(), expected);
    EXPECT_EQ(static_cast<size_t>(std::count(expected.begin(), expected.end(), '\n')),
              summary->rows);
    lines += summary->rows;
    if (name.find("partial_error") != std::string::npos) {
      EXPECT_EQ(summary->partial_error.code(), absl::StatusCode::kDataLoss);
      EXPECT_GT(summary->rows, 0u);
    } else {
      EXPECT_TRUE(summary->partial_error.ok()) << summary->partial_error;
    }
    if (name == "partial_error.json") {
      EXPECT_THAT(summary->partial_error.message(),
                  ::testing::HasSubstr("E_QUERY_RESULT_SET_TOO_LARGE"));
      EXPECT_EQ(summary->rows, 2u);
    }
    if (name == "multi_table.json") EXPECT_EQ(summary->tables, 2u);
    if (name == "empty_tables.json") EXPECT_EQ(summary->tables, 0u);
  }
  EXPECT_GE(lines, 20u);
}

}  // namespace
}  // namespace loganalytics
