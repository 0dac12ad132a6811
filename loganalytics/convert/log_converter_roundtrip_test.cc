// Round trip: every Log.raw the converter produces is parsed again with a second
// parser (simdjson's DOM API, which keeps 64-bit integers exact) and compared, value by
// value, with the answer's cells as that parser reads them from the input: ints
// exact, doubles equal, strings equal, dynamic cells equal to the parsed content of
// their string, nulls and empty strings absent, the ingestion time column only in
// RowMeta. Runs over the recorded answers and generated answers of every shape.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "loganalytics/convert/log_converter.h"
#include "proto/plugins.pb.h"
#include "simdjson.h"
#include "testdata/generator/answer_generator.h"

namespace loganalytics {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Deep equality of two parsed JSON values (object members compared in order, which
// the converter preserves).
::testing::AssertionResult SameJson(element a, element b, const std::string& where) {
  if (a.type() != b.type()) {
    return ::testing::AssertionFailure()
           << where << ": types differ: " << simdjson::to_string(a) << " vs "
           << simdjson::to_string(b);
  }
  switch (a.type()) {
    case element_type::ARRAY: {
      simdjson::dom::array x = a.get_array().value_unsafe();
      simdjson::dom::array y = b.get_array().value_unsafe();
      if (x.size() != y.size()) return ::testing::AssertionFailure() << where << ": sizes";
      size_t i = 0;
      auto it = y.begin();
      for (element v : x) {
        auto r = SameJson(v, *it, absl::StrCat(where, "[", i, "]"));
        if (!r) return r;
        ++it;
        ++i;
      }
      return ::testing::AssertionSuccess();
    }
    case element_type::OBJECT: {
      simdjson::dom::object x = a.get_object().value_unsafe();
      simdjson::dom::object y = b.get_object().value_unsafe();
      if (x.size() != y.size()) return ::testing::AssertionFailure() << where << ": sizes";
      auto it = y.begin();
      for (simdjson::dom::key_value_pair field : x) {
        if (field.key != it.key()) {
          return ::testing::AssertionFailure() << where << ": keys " << field.key;
        }
        auto r = SameJson(field.value, it.value(), where + "." + std::string(field.key));
        if (!r) return r;
        ++it;
      }
      return ::testing::AssertionSuccess();
    }
    case element_type::INT64:
      if (a.get_int64().value_unsafe() == b.get_int64().value_unsafe()) break;
      return ::testing::AssertionFailure() << where << ": int64 differs";
    case element_type::UINT64:
      if (a.get_uint64().value_unsafe() == b.get_uint64().value_unsafe()) break;
      return ::testing::AssertionFailure() << where << ": uint64 differs";
    case element_type::DOUBLE:
      if (a.get_double().value_unsafe() == b.get_double().value_unsafe()) break;
      return ::testing::AssertionFailure() << where << ": double differs";
    case element_type::STRING:
      if (a.get_string().value_unsafe() == b.get_string().value_unsafe()) break;
      return ::testing::AssertionFailure()
             << where << ": \"" << a.get_string().value_unsafe() << "\" vs \""
             << b.get_string().value_unsafe() << "\"";
    case element_type::BOOL:
      if (a.get_bool().value_unsafe() == b.get_bool().value_unsafe()) break;
      return ::testing::AssertionFailure() << where << ": bool differs";
    case element_type::NULL_VALUE:
      break;
  }
  return ::testing::AssertionSuccess();
}

struct Emitted {
  plugins::Log log;
  std::string ingestion_time;
  std::string item_id;
};

// Converts `body`, then checks every emitted row against the input cells.
// Returns the number of cells compared.
size_t CheckRoundTrip(const std::string& body, const std::string& label) {
  SCOPED_TRACE(label);
  ConvertOptions options;
  options.workspace_id = "w";
  options.clock = [] { return absl::FromUnixSeconds(1714608000); };
  std::vector<Emitted> emitted;
  absl::StatusOr<ConvertSummary> summary =
      ConvertAnswer(body, options, [&](plugins::Log&& log, const RowMeta& meta) {
        emitted.push_back(
            Emitted{std::move(log), std::string(meta.ingestion_time), std::string(meta.item_id)});
        return absl::OkStatus();
      });
  EXPECT_TRUE(summary.ok()) << summary.status();
  if (!summary.ok()) return 0;

  simdjson::dom::parser input_parser, raw_parser, cell_parser;
  element answer;
  if (input_parser.parse(body).get(answer) != simdjson::SUCCESS) {
    ADD_FAILURE() << "the second parser rejects the input";
    return 0;
  }
  size_t row_number = 0, compared = 0;
  // Copies of the simdjson_result values: a range-for over value_unsafe() of a
  // temporary result would outlive it.
  const simdjson::dom::array tables = answer["tables"].get_array().value_unsafe();
  for (element table : tables) {
    std::vector<std::string> names, types;
    const simdjson::dom::array columns = table["columns"].get_array().value_unsafe();
    for (element column : columns) {
      names.emplace_back(column["name"].get_string().value_unsafe());
      types.emplace_back(column["type"].get_string().value_unsafe());
    }
    const simdjson::dom::array rows = table["rows"].get_array().value_unsafe();
    for (element row : rows) {
      if (row_number >= emitted.size()) {
        ADD_FAILURE() << "fewer Logs than rows";
        return compared;
      }
      const Emitted& out = emitted[row_number];
      const std::string where = absl::StrCat("row ", row_number);
      element raw_element;
      EXPECT_EQ(raw_parser.parse(out.log.raw()).get(raw_element), simdjson::SUCCESS)
          << where << ": raw is not JSON: " << out.log.raw();
      simdjson::dom::object raw;
      EXPECT_EQ(raw_element.get(raw), simdjson::SUCCESS) << where;
      size_t expected_members = 0;
      std::string time_generated;
      size_t i = 0;
      const simdjson::dom::array cells = row.get_array().value_unsafe();
      for (element cell : cells) {
        const std::string& name = names[i];
        const std::string& type = types[i];
        const std::string at = absl::StrCat(where, " ", name);
        ++i;
        element produced;
        const bool present = raw[name].get(produced) == simdjson::SUCCESS;
        if (name == "_IngestionTime") {
          EXPECT_FALSE(present) << at;
          EXPECT_EQ(out.ingestion_time,
                    cell.is_string() ? cell.get_string().value_unsafe() : "")
              << at;
          continue;
        }
        if (name == "_ItemId" && cell.is_string()) {
          EXPECT_EQ(out.item_id, cell.get_string().value_unsafe()) << at;
        }
        if (name == "TimeGenerated" && cell.is_string()) {
          time_generated = std::string(cell.get_string().value_unsafe());
        }
        if (cell.is_null() || (cell.is_string() && cell.get_string().value_unsafe().empty())) {
          EXPECT_FALSE(present) << at << " should be left out";
          continue;
        }
        if (type == "dynamic" && cell.is_string()) {
          const std::string text(cell.get_string().value_unsafe());
          element nested;
          if (cell_parser.parse(text).get(nested) == simdjson::SUCCESS) {
            if (nested.is_null()) {
              EXPECT_FALSE(present) << at;
              continue;
            }
            ++expected_members;
            EXPECT_TRUE(present) << at;
            if (present) EXPECT_TRUE(SameJson(produced, nested, at));
            ++compared;
            continue;
          }
          // Not JSON: kept as the string.
        }
        ++expected_members;
        EXPECT_TRUE(present) << at;
        if (!present) continue;
        ++compared;
        if (type == "decimal" && !cell.is_string()) {
          // A decimal sent as a number comes out as a string of the same value.
          EXPECT_TRUE(produced.is_string()) << at;
          if (!produced.is_string()) continue;
          const std::string text(produced.get_string().value_unsafe());
          double value = 0;
          EXPECT_TRUE(absl::SimpleAtod(text, &value)) << at;
          EXPECT_EQ(value, cell.get_double().value_unsafe()) << at;
          continue;
        }
        EXPECT_TRUE(SameJson(produced, cell, at));
      }
      // The only member not taken from a cell is the timestamp source.
      element source;
      const bool has_source = raw["_timestampSource"].get(source) == simdjson::SUCCESS;
      EXPECT_EQ(raw.size(), expected_members + (has_source ? 1 : 0)) << where;
      // Log.timestamp is TimeGenerated, the same instant.
      absl::Time expected_time, produced_time;
      std::string error;
      if (!time_generated.empty() &&
          absl::ParseTime(absl::RFC3339_full, time_generated, &expected_time, &error)) {
        EXPECT_FALSE(has_source) << where;
        EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, out.log.timestamp(), &produced_time,
                                    &error))
            << out.log.timestamp();
        EXPECT_EQ(expected_time, produced_time) << where;
      } else {
        EXPECT_TRUE(has_source) << where;
      }
      EXPECT_EQ(out.log.id().size(), 36u);
      ++row_number;
    }
  }
  EXPECT_EQ(row_number, emitted.size());
  return compared;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(LogConverterRoundTripTest, RecordedAnswers) {
  const std::filesystem::path dir = std::filesystem::path(std::getenv("TEST_SRCDIR")) /
                                    std::getenv("TEST_WORKSPACE") / "testdata/answers";
  size_t compared = 0, answers = 0;
  simdjson::dom::parser strict;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    const std::string body = ReadFile(entry.path());
    element ignored;
    // An answer with a lone surrogate escape is rejected by the second parser; the
    // golden test covers it.
    if (strict.parse(body).get(ignored) != simdjson::SUCCESS) continue;
    compared += CheckRoundTrip(body, entry.path().filename().string());
    ++answers;
  }
  EXPECT_GE(answers, 7u);
  EXPECT_GT(compared, 300u);
}

TEST(LogConverterRoundTripTest, GeneratedAnswersOfEveryShape) {
  for (answer_generator::Shape shape :
       {answer_generator::Shape::kSignin, answer_generator::Shape::kDiagnostics,
        answer_generator::Shape::kUnion}) {
    for (uint64_t seed : {1, 2, 3}) {
      const std::string body = answer_generator::GenerateAnswer(shape, 200000, seed);
      const size_t compared = CheckRoundTrip(
          body, absl::StrCat(answer_generator::ShapeName(shape), " seed ", seed));
      EXPECT_GT(compared, 1000u);
    }
  }
}

}  // namespace
}  // namespace loganalytics
