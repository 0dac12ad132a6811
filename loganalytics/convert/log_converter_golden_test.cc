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

std::vector<std::filesystem::path> RecordedAnswers() {
  std::vector<std::filesystem::path> answers;
  for (const char* directory : internal_convert::kGoldenDirectories) {
    for (const auto& entry : std::filesystem::directory_iterator(Runfile(directory))) {
      if (entry.path().extension() == ".json") answers.push_back(entry.path());
    }
  }
  std::sort(answers.begin(), answers.end());
  return answers;
}

TEST(LogConverterGoldenTest, EveryRecordedAnswerMatchesItsGolden) {
  const std::vector<std::filesystem::path> answers = RecordedAnswers();
  ASSERT_GE(answers.size(), 8u) << "the recorded answers are missing from the runfiles";
  size_t lines = 0;
  for (const std::filesystem::path& answer : answers) {
    SCOPED_TRACE(answer.filename().string());
    std::filesystem::path golden = answer;
    golden.replace_extension(".jsonl");
    ASSERT_TRUE(std::filesystem::exists(golden))
        << golden << " is missing: run bazel run //loganalytics/convert:update_goldens";
    std::ostringstream out;
    absl::StatusOr<ConvertSummary> summary =
        ConvertAnswerToJsonLines(ReadFile(answer), internal_convert::GoldenOptions(), out);
    ASSERT_TRUE(summary.ok()) << summary.status();
    const std::string expected = ReadFile(golden);
    EXPECT_EQ(out.str(), expected);
    EXPECT_EQ(static_cast<size_t>(std::count(expected.begin(), expected.end(), '\n')),
              summary->rows);
    lines += summary->rows;
    if (answer.filename() == "partial_error.json") {
      EXPECT_EQ(summary->partial_error.code(), absl::StatusCode::kDataLoss);
      EXPECT_THAT(summary->partial_error.message(),
                  ::testing::HasSubstr("E_QUERY_RESULT_SET_TOO_LARGE"));
      EXPECT_EQ(summary->rows, 2u);
    } else {
      EXPECT_TRUE(summary->partial_error.ok()) << summary->partial_error;
    }
    if (answer.filename() == "multi_table.json") EXPECT_EQ(summary->tables, 2u);
    if (answer.filename() == "empty_tables.json") EXPECT_EQ(summary->tables, 0u);
  }
  EXPECT_GE(lines, 15u);
}

}  // namespace
}  // namespace loganalytics
