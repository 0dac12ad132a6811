#include "testdata/generator/answer_generator.h"

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace answer_generator {
namespace {

constexpr Shape kShapes[] = {Shape::kSignin, Shape::kDiagnostics, Shape::kUnion};

TEST(AnswerGeneratorTest, IsDeterministic) {
  for (Shape shape : kShapes) {
    EXPECT_EQ(GenerateAnswer(shape, 50000, 7), GenerateAnswer(shape, 50000, 7))
        << ShapeName(shape);
    EXPECT_NE(GenerateAnswer(shape, 50000, 7), GenerateAnswer(shape, 50000, 8))
        << ShapeName(shape);
  }
}

TEST(AnswerGeneratorTest, ParsesShapeNames) {
  for (Shape shape : kShapes) {
    absl::StatusOr<Shape> parsed = ParseShape(ShapeName(shape));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, shape);
  }
  EXPECT_EQ(ParseShape("wide").status().code(), absl::StatusCode::kInvalidArgument);
}

// Valid JSON, the requested size, unique column names, one cell per column, and
// dynamic cells holding valid JSON.
TEST(AnswerGeneratorTest, ProducesValidAnswersOfTheRequestedSize) {
  simdjson::dom::parser parser;
  simdjson::dom::parser inner_parser;
  for (Shape shape : kShapes) {
    SCOPED_TRACE(ShapeName(shape));
    const size_t target = 300000;
    const std::string body = GenerateAnswer(shape, target, 1);
    EXPECT_GE(body.size(), target);
    EXPECT_LT(body.size(), target + 20000);
    simdjson::dom::element answer;
    ASSERT_EQ(parser.parse(body).get(answer), simdjson::SUCCESS);
    simdjson::dom::array tables;
    ASSERT_EQ(answer["tables"].get(tables), simdjson::SUCCESS);
    ASSERT_EQ(tables.size(), 1u);
    simdjson::dom::array columns, rows;
    ASSERT_EQ(tables.at(0)["columns"].get(columns), simdjson::SUCCESS);
    ASSERT_EQ(tables.at(0)["rows"].get(rows), simdjson::SUCCESS);
    if (shape == Shape::kDiagnostics) EXPECT_EQ(columns.size(), 500u);
    absl::flat_hash_set<std::string> names;
    std::vector<bool> dynamic;
    for (simdjson::dom::element column : columns) {
      std::string_view name, type;
      ASSERT_EQ(column["name"].get(name), simdjson::SUCCESS);
      ASSERT_EQ(column["type"].get(type), simdjson::SUCCESS);
      EXPECT_TRUE(names.insert(std::string(name)).second) << "duplicate column " << name;
      dynamic.push_back(type == "dynamic");
    }
    EXPECT_TRUE(names.contains("_ItemId"));
    EXPECT_TRUE(names.contains("_IngestionTime"));
    EXPECT_TRUE(names.contains("TimeGenerated"));
    EXPECT_GT(rows.size(), 10u);
    size_t dynamic_cells = 0, null_cells = 0, cells = 0;
    absl::flat_hash_set<std::string> types;
    for (simdjson::dom::element row : rows) {
      simdjson::dom::array values;
      ASSERT_EQ(row.get(values), simdjson::SUCCESS);
      ASSERT_EQ(values.size(), columns.size());
      size_t i = 0;
      for (simdjson::dom::element value : values) {
        ++cells;
        if (value.is_null()) ++null_cells;
        if (dynamic[i] && value.is_string()) {
          std::string_view text = value.get_string().value_unsafe();
          simdjson::dom::element nested;
          EXPECT_EQ(inner_parser.parse(std::string(text)).get(nested), simdjson::SUCCESS)
              << text;
          ++dynamic_cells;
        }
        ++i;
      }
    }
    if (shape == Shape::kDiagnostics) {
      EXPECT_GT(null_cells * 10, cells * 9) << "diagnostics rows should be mostly null";
    } else {
      EXPECT_GT(dynamic_cells, rows.size());
    }
  }
}

TEST(AnswerGeneratorTest, UnionMixesTables) {
  const std::string body = GenerateAnswer(Shape::kUnion, 100000, 3);
  for (const char* table : {"\"AzureActivity\"", "\"SecurityAlert\"", "\"AuditLogs\"",
                            "\"SigninLogs\""}) {
    EXPECT_TRUE(absl::StrContains(body, table)) << table;
  }
}

TEST(AnswerGeneratorTest, ZeroTargetGivesAnEmptyTable) {
  const std::string body = GenerateAnswer(Shape::kSignin, 0, 1);
  EXPECT_TRUE(absl::EndsWith(body, "\"rows\":[]}]}")) << body.substr(body.size() - 40);
}

}  // namespace
}  // namespace answer_generator
