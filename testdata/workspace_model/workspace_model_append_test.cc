// AddRecords (batches arriving over time) and DropIngestedBefore (retention).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "testdata/workspace_model/workspace_model.h"

namespace workspace_model {
namespace {

constexpr char kWs[] = "11111111-2222-4333-8444-555555555555";
const absl::Time kT0 = absl::FromUnixSeconds(1704067200);

Record At(const std::string& id, int ingested_second) {
  const absl::Time t = kT0 + absl::Seconds(ingested_second);
  return Record{"SigninLogs", id, t - absl::Hours(30), t, t,
                {Column::Long("Sequence", ingested_second)}};
}

// The _ItemId column of a page query's answer, in order.
std::vector<std::string> Ids(WorkspaceModel& model) {
  ModelReply reply = model.Answer(
      {kWs,
       "SigninLogs | extend _IngestionTime = ingestion_time(), _ItemId = _ItemId "
       "| order by _IngestionTime asc, _ItemId asc | take 100",
       ""});
  EXPECT_EQ(reply.status, 200) << reply.body;
  std::vector<std::string> ids;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(reply.body).get(doc) != simdjson::SUCCESS) return ids;
  simdjson::dom::array columns = doc["tables"].at(0)["columns"].get_array();
  size_t item = 0, n = 0;
  for (simdjson::dom::element c : columns) {
    if (std::string_view(c["name"]) == "_ItemId") item = n;
    ++n;
  }
  for (simdjson::dom::element row : doc["tables"].at(0)["rows"].get_array()) {
    ids.emplace_back(std::string_view(row.at(item)));
  }
  return ids;
}

TEST(WorkspaceModelAppendTest, BatchesInAnyOrderReadInIndexOrder) {
  common::FakeClock clock(kT0 + absl::Hours(1));
  WorkspaceModel model(clock.AsClock());
  model.AddRecords(kWs, {At("c", 2), At("b", 2), At("a", 1)});
  model.AddRecords(kWs, {At("e", 3), At("d", 3)});  // after everything held
  model.AddRecords(kWs, {At("0", 0)});              // before: the next query sorts
  EXPECT_THAT(Ids(model), ::testing::ElementsAre("0", "a", "b", "c", "d", "e"));
  model.AddRecords(kWs, {At("f", 3)});              // same time, larger id
  EXPECT_THAT(Ids(model), ::testing::ElementsAre("0", "a", "b", "c", "d", "e", "f"));
  EXPECT_EQ(model.record_count(kWs), 7u);
}

TEST(WorkspaceModelAppendTest, RetentionDropsOnlyOlderRecords) {
  common::FakeClock clock(kT0 + absl::Hours(1));
  WorkspaceModel model(clock.AsClock());
  std::vector<Record> records;
  for (int i = 0; i < 10; ++i) records.push_back(At(absl::StrCat("id-", i), i));
  model.AddRecords(kWs, std::move(records));
  EXPECT_EQ(model.DropIngestedBefore(kWs, kT0 + absl::Seconds(4)), 4u);
  EXPECT_EQ(model.DropIngestedBefore(kWs, kT0 + absl::Seconds(4)), 0u);
  EXPECT_EQ(model.DropIngestedBefore("unknown", kT0 + absl::Hours(9)), 0u);
  EXPECT_THAT(Ids(model), ::testing::ElementsAre("id-4", "id-5", "id-6", "id-7", "id-8",
                                                 "id-9"));
}

}  // namespace
}  // namespace workspace_model
