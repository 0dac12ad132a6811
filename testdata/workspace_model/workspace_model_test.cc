#include "testdata/workspace_model/workspace_model.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/http_transport.h"
#include "loganalytics/query_error.h"
#include "simdjson.h"
#include "testdata/workspace_model/model_transport.h"

namespace workspace_model {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kWs[] = "11111111-2222-4333-8444-555555555555";

// Rows of an answer as (column -> text) maps, read with a real JSON parser.
struct Answer {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;  // cells as raw JSON
  std::string error_code;
  std::string error_detail;

  std::string Cell(size_t row, const std::string& column) const {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == column) return rows[row][i];
    }
    return "<no column " + column + ">";
  }
  std::vector<std::string> Column(const std::string& column) const {
    std::vector<std::string> out;
    for (size_t r = 0; r < rows.size(); ++r) out.push_back(Cell(r, column));
    return out;
  }
};

Answer Read(const ModelReply& reply) {
  Answer answer;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(reply.body).get(doc), simdjson::SUCCESS) << reply.body;
  simdjson::dom::element table = doc["tables"].at(0);
  for (simdjson::dom::element c : table["columns"].get_array()) {
    answer.columns.emplace_back(std::string_view(c["name"]));
  }
  for (simdjson::dom::element row : table["rows"].get_array()) {
    std::vector<std::string> cells;
    for (simdjson::dom::element cell : row.get_array()) {
      std::string_view s;
      cells.push_back(cell.get(s) == simdjson::SUCCESS ? std::string(s)
                                                        : simdjson::minify(cell));
    }
    answer.rows.push_back(cells);
  }
  simdjson::dom::element error;
  if (doc["error"].get(error) == simdjson::SUCCESS) {
    answer.error_code = std::string(std::string_view(error["code"]));
    answer.error_detail =
        std::string(std::string_view(error["details"].at(0)["innererror"]["message"]));
  }
  return answer;
}

class WorkspaceModelTest : public ::testing::Test {
 protected:
  WorkspaceModelTest() : model_(clock_.AsClock()) {}

  absl::Time T(int seconds) { return t0_ + absl::Seconds(seconds); }

  void Add(const std::string& table, const std::string& id, int ingested,
           int visible_after = 0, absl::Duration late = absl::ZeroDuration()) {
    model_.AddRecord(kWs, Record{table, id, T(ingested) - late, T(ingested),
                                 T(ingested + visible_after),
                                 {Column::String("User", "user-" + id),
                                  Column::Long("Count", ingested)}});
  }

  ModelReply Ask(const std::string& kql, const std::string& timespan = "") {
    return model_.Answer({kWs, kql, timespan});
  }

  common::FakeClock clock_{absl::FromUnixSeconds(1704067200) + absl::Hours(1)};
  absl::Time t0_ = absl::FromUnixSeconds(1704067200);
  WorkspaceModel model_;
};

TEST_F(WorkspaceModelTest, AnswersWithAzureShapeAndHidesUnderscoreColumns) {
  Add("SigninLogs", "b", 10);
  Add("SigninLogs", "a", 10);
  Add("AuditLogs", "c", 5);
  ModelReply reply = Ask("SigninLogs | order by TimeGenerated asc");
  ASSERT_EQ(reply.status, 200) << reply.body;
  Answer a = Read(reply);
  EXPECT_THAT(a.columns, ElementsAre("TenantId", "TimeGenerated", "User", "Count", "Type"));
  ASSERT_EQ(a.rows.size(), 2u);
  EXPECT_EQ(a.Cell(0, "TenantId"), kWs);
  EXPECT_EQ(a.Cell(0, "TimeGenerated"), "2024-01-01T00:00:10.0000000Z");
  EXPECT_EQ(a.Cell(0, "Count"), "10");

  Answer projected = Read(Ask(
      "SigninLogs | extend _IngestionTime = ingestion_time(), _ItemId = _ItemId "
      "| order by _IngestionTime asc, _ItemId asc"));
  EXPECT_THAT(projected.columns, ElementsAre("TenantId", "TimeGenerated", "User", "Count",
                                             "Type", "_IngestionTime", "_ItemId"));
  EXPECT_THAT(projected.Column("_ItemId"), ElementsAre("a", "b"));
}

TEST_F(WorkspaceModelTest, RecordsAppearOnlyOnceVisible) {
  Add("SigninLogs", "early", 0);
  Add("SigninLogs", "slow", 0, /*visible_after=*/7200);  // visible at t0 + 2 h
  const std::string kql = "SigninLogs | extend _ItemId = _ItemId | order by _ItemId asc";
  EXPECT_THAT(Read(Ask(kql)).Column("_ItemId"), ElementsAre("early"));
  clock_.Advance(absl::Hours(1));
  EXPECT_THAT(Read(Ask(kql)).Column("_ItemId"), ElementsAre("early", "slow"));
}

TEST_F(WorkspaceModelTest, TimespanFiltersTimeGeneratedNotIngestion) {
  Add("SigninLogs", "on-time", 100);
  Add("SigninLogs", "late", 100, 0, absl::Hours(30));  // generated 30 h before ingestion
  const std::string kql = "SigninLogs | extend _ItemId = _ItemId | order by _ItemId asc";
  EXPECT_THAT(Read(Ask(kql, "2024-01-01T00:00:00Z/2024-01-01T01:00:00Z")).Column("_ItemId"),
              ElementsAre("on-time"));
  EXPECT_THAT(Read(Ask(kql, "2023-12-30T00:00:00Z/2024-01-01T01:00:00Z")).Column("_ItemId"),
              ElementsAre("late", "on-time"));
  EXPECT_THAT(Read(Ask(kql, "P2D")).Column("_ItemId"), ElementsAre("late", "on-time"));
  EXPECT_THAT(Read(Ask(kql, "PT1H")).Column("_ItemId"), ElementsAre("on-time"));
  EXPECT_EQ(Ask(kql, "yesterday").status, 400);
}

TEST_F(WorkspaceModelTest, CursorPredicateWithHostileIds) {
  const std::vector<std::string> ids = {"a", "a'b", "a\\", "a\nb", "a'|take 1", "b"};
  for (const std::string& id : ids) Add("SigninLogs", id, 50);
  Add("SigninLogs", "z-before", 49);
  // Everything after (T(50), "a'b") in (_IngestionTime, _ItemId) order.
  ModelReply reply = Ask(
      "SigninLogs | extend _IngestionTime = ingestion_time(), _ItemId = _ItemId "
      "| where _IngestionTime > datetime(2024-01-01T00:00:50Z) or "
      "(_IngestionTime == datetime(2024-01-01T00:00:50Z) and _ItemId > 'a\\'b') "
      "| order by _IngestionTime asc, _ItemId asc | take 10");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_THAT(Read(reply).Column("_ItemId"), ElementsAre("a'|take 1", "a\\", "b"));
}

TEST_F(WorkspaceModelTest, SyntaxErrorEnvelopeMapsToInvalidArgument) {
  Add("SigninLogs", "a", 1);
  ModelReply reply = Ask("SigninLogs\n| where _ItemId > 'x' | take 1' | take 5");
  EXPECT_EQ(reply.status, 400);
  absl::Status s = loganalytics::ParseQueryError(reply.status, reply.body, reply.headers);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("BadArgumentError/SyntaxError/SYN0002 from api.loganalytics.io: the "
                        "KQL does not parse at line 2, position"));
}

TEST_F(WorkspaceModelTest, UnknownTableAndColumnAreSemanticErrors) {
  Add("SigninLogs", "a", 1);
  ModelReply reply = Ask("SigninLogz | take 1");
  EXPECT_EQ(reply.status, 400);
  absl::Status s = loganalytics::ParseQueryError(reply.status, reply.body, reply.headers);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(loganalytics::MissingTable(s), "SigninLogz");
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("table or column 'SigninLogz' not found in this workspace"));

  EXPECT_EQ(Ask("union isfuzzy=true SigninLogz, SigninLogs | take 1").status, 200);
  EXPECT_EQ(Ask("union SigninLogz, SigninLogs | take 1").status, 400);
  ModelReply column = Ask("SigninLogs | where Colour == 'red'");
  EXPECT_EQ(column.status, 400);
  EXPECT_THAT(column.body, HasSubstr("Failed to resolve scalar expression named 'Colour'"));
  // _IngestionTime exists only after the extend.
  EXPECT_EQ(Ask("SigninLogs | where _IngestionTime > datetime(2024-01-01T00:00:00Z)").status,
            400);
}

TEST_F(WorkspaceModelTest, UnknownWorkspaceIs404AndEmptyWorkspaceIs204) {
  EXPECT_EQ(model_.Answer({"nope", "T | take 1", ""}).status, 404);
  model_.AddWorkspace("empty");
  ModelReply reply = model_.Answer({"empty", "T | take 1", ""});
  EXPECT_EQ(reply.status, 204);
  EXPECT_EQ(reply.body, "");
}

TEST_F(WorkspaceModelTest, InjectedFaultsComeFirst) {
  Add("SigninLogs", "a", 1);
  Add("SigninLogs", "b", 2);
  model_.InjectFaults(1, Fault::Throttle(7));
  model_.InjectFaults(1, Fault::ServerError(503));
  model_.InjectFaults(1, Fault::GatewayTimeout());
  model_.InjectFaults(1, Fault::Truncate(0.5));
  const std::string kql = "SigninLogs | extend _ItemId = _ItemId | order by _ItemId asc";
  ModelReply throttled = Ask(kql);
  EXPECT_EQ(throttled.status, 429);
  EXPECT_THAT(throttled.headers, ElementsAre(std::pair<std::string, std::string>(
                                     "Retry-After", "7")));
  EXPECT_EQ(Ask(kql).status, 503);
  EXPECT_EQ(Ask(kql).status, 504);
  Answer truncated = Read(Ask(kql));
  EXPECT_THAT(truncated.Column("_ItemId"), ElementsAre("a"));
  EXPECT_EQ(truncated.error_code, "PartialError");
  EXPECT_THAT(truncated.error_detail, HasSubstr("E_QUERY_RESULT_SET_TOO_LARGE"));
  EXPECT_THAT(Read(Ask(kql)).Column("_ItemId"), ElementsAre("a", "b"));
  ModelStats stats = model_.stats();
  EXPECT_EQ(stats.throttled, 1);
  EXPECT_EQ(stats.server_errors, 1);
  EXPECT_EQ(stats.gateway_timeouts, 1);
  EXPECT_EQ(stats.truncated, 1);
}

TEST_F(WorkspaceModelTest, RowCapTruncatesWithPartialError) {
  for (int i = 0; i < 10; ++i) Add("SigninLogs", absl::StrCat("id", i), i);
  model_.SetRowCap(4);
  Answer a = Read(Ask("SigninLogs | extend _IngestionTime = ingestion_time() "
                      "| order by _IngestionTime asc | take 8"));
  EXPECT_EQ(a.rows.size(), 4u);
  EXPECT_THAT(a.error_detail, HasSubstr("record count limit 4"));
  EXPECT_EQ(model_.stats().row_cap_hits, 1);
  Answer fits = Read(Ask("SigninLogs | extend _IngestionTime = ingestion_time() "
                         "| order by _IngestionTime asc | take 4"));
  EXPECT_EQ(fits.rows.size(), 4u);
  EXPECT_EQ(fits.error_code, "");
}

TEST_F(WorkspaceModelTest, GeneralPathOrdersDescendingAndFilters) {
  for (int i = 0; i < 6; ++i) Add(i % 2 ? "AuditLogs" : "SigninLogs", absl::StrCat("id", i), i);
  Answer a = Read(Ask("union * | where Count >= 2 | where Type startswith 'sign' "
                      "| extend _ItemId = _ItemId | order by _ItemId desc | take 5"));
  EXPECT_THAT(a.Column("_ItemId"), ElementsAre("id4", "id2"));
}

TEST_F(WorkspaceModelTest, RandomFaultsRepeatWithTheSeed) {
  Add("SigninLogs", "a", 1);
  RandomFaults faults;
  faults.throttle = 0.2;
  faults.server_error = 0.1;
  faults.gateway_timeout = 0.1;
  faults.truncate = 0.1;
  faults.seed = 42;
  auto run = [&] {
    model_.SetRandomFaults(faults);
    std::vector<int> statuses;
    for (int i = 0; i < 200; ++i) statuses.push_back(Ask("SigninLogs | take 1").status);
    return statuses;
  };
  std::vector<int> first = run();
  EXPECT_EQ(first, run());
  int throttled = 0;
  for (int s : first) throttled += s == 429;
  EXPECT_GT(throttled, 20);
  EXPECT_LT(throttled, 60);
}

TEST_F(WorkspaceModelTest, TransportChecksLikeTheService) {
  Add("SigninLogs", "a", 1);
  ModelTransport transport(&model_);
  http::HttpRequest request;
  request.method = "POST";
  request.url = absl::StrCat("https://api.loganalytics.io/v1/workspaces/", kWs, "/query");
  request.body = R"({"query":"SigninLogs | take 1","timespan":"P1D"})";
  EXPECT_EQ(transport.Send(request)->status, 401);
  request.headers = {{"Authorization", "Bearer t"}};
  absl::StatusOr<http::HttpResponse> no_type = transport.Send(request);
  EXPECT_EQ(no_type->status, 200);
  EXPECT_EQ(no_type->body, "");
  request.headers.push_back({"Content-Type", "application/json"});
  absl::StatusOr<http::HttpResponse> ok = transport.Send(request);
  EXPECT_EQ(ok->status, 200);
  EXPECT_THAT(ok->body, HasSubstr("\"rows\":[["));
  http::RequestOptions small;
  small.max_response_bytes = 10;
  EXPECT_EQ(transport.Send(request, small).status().code(), absl::StatusCode::kOutOfRange);
  request.body = "not json";
  EXPECT_EQ(transport.Send(request)->status, 400);
  request.url = "https://api.loganalytics.io/v1/workspaces/x/other";
  EXPECT_EQ(transport.Send(request)->status, 404);
  EXPECT_EQ(transport.requests(), 6);
}

}  // namespace
}  // namespace workspace_model
