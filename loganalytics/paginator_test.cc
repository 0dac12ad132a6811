#include "loganalytics/paginator.h"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loganalytics/internal/scripted_transport.h"
#include "loganalytics/internal/static_credential.h"
#include "loganalytics/query_client.h"
#include "loganalytics/query_error.h"
#include "proto/plugins.pb.h"
#include "simdjson.h"
#include "testdata/workspace_model/model_transport.h"
#include "testdata/workspace_model/workspace_model.h"

namespace loganalytics {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using workspace_model::Column;
using workspace_model::Fault;
using workspace_model::Record;

constexpr char kWs[] = "b4c4d9a5-7e2f-4c1d-9a3b-5e6f7a8b9c0d";
const absl::Time kT0 = absl::FromUnixSeconds(1704067200);  // 2024-01-01T00:00:00Z

std::string S(absl::string_view v) { return std::string(v); }

// The "Key" payload column of a Log, read back from Log.raw with a JSON parser.
std::string KeyOf(const plugins::Log& log) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view key;
  if (parser.parse(log.raw()).get(doc) != simdjson::SUCCESS ||
      doc["Key"].get(key) != simdjson::SUCCESS) {
    return "<no Key in " + log.raw() + ">";
  }
  return std::string(key);
}

class PaginatorTest : public ::testing::Test {
 protected:
  PaginatorTest()
      : model_(clock_.AsClock()),
        transport_(std::make_shared<workspace_model::ModelTransport>(&model_)),
        credential_(std::make_shared<loganalytics_internal::StaticCredential>(
            std::vector<std::string>{"token"})) {
    client_ = std::make_shared<QueryClient>(transport_, credential_, QueryClientOptions());
  }

  PaginatorOptions Options() {
    PaginatorOptions o;
    o.workspace_id = kWs;
    o.name = "SigninLogs";
    o.base_query = "SigninLogs";
    o.initial_page_rows = 10;
    o.min_page_rows = 1;
    o.max_page_rows = 1000;
    o.convert.clock = clock_.AsClock();
    return o;
  }

  std::unique_ptr<Paginator> Make(PaginatorOptions options,
                                  Cursor start = Cursor::StartAt(kT0 - absl::Hours(1))) {
    return std::make_unique<Paginator>(
        client_, std::move(options), std::move(start), clock_.AsClock(),
        [this](absl::Duration d) {
          sleeps_.push_back(d);
          clock_.Advance(d);
        },
        [] { return 0.5; });
  }

  // A SigninLogs record ingested at kT0 + `at`, visible `visible_after` later, generated
  // `early` before its ingestion.
  void Add(const std::string& id, absl::Duration at,
           absl::Duration visible_after = absl::ZeroDuration(),
           absl::Duration early = absl::Seconds(30), const std::string& table = "SigninLogs") {
    model_.AddRecord(kWs, Record{table, id, kT0 + at - early, kT0 + at,
                                 kT0 + at + visible_after,
                                 {Column::String("Key", id), Column::Long("Size", 1)}});
  }

  // Reads and commits pages until caught up; returns the Keys delivered, in order.
  std::vector<std::string> Drain(Paginator& paginator, int max_pages = 1000) {
    std::vector<std::string> keys;
    for (int i = 0; i < max_pages; ++i) {
      absl::StatusOr<Page> page = paginator.NextPage();
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      for (const plugins::Log& log : page->logs) keys.push_back(KeyOf(log));
      EXPECT_TRUE(paginator.Commit(*page).ok());
      if (page->complete && !page->more_available) break;
    }
    return keys;
  }

  // Like Drain, but the round must end (a complete page with nothing more) within
  // `max_pages`; `each` sees every committed page.
  std::vector<std::string> Round(Paginator& paginator,
                                 const std::function<void(const Page&)>& each = nullptr,
                                 int max_pages = 200) {
    std::vector<std::string> keys;
    for (int i = 0; i < max_pages; ++i) {
      absl::StatusOr<Page> page = paginator.NextPage();
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) return keys;
      for (const plugins::Log& log : page->logs) keys.push_back(KeyOf(log));
      EXPECT_TRUE(paginator.Commit(*page).ok());
      if (each) each(*page);
      if (page->complete && !page->more_available) return keys;
    }
    ADD_FAILURE() << "the round did not end within " << max_pages << " pages";
    return keys;
  }

  // 60 rows within one minute at 50:00 and a row among them queryable only 4 minutes
  // after its ingestion, with answers capped at 20 rows: once 20 rows are remembered,
  // no page size makes page + overlap fit in one answer.
  void AddBusyMinuteWithACap() {
    for (int i = 0; i < 60; ++i) {
      Add(absl::StrFormat("id-%02d", i), absl::Minutes(50) + absl::Seconds(i));
    }
    Add("id-30-slow", absl::Minutes(50) + absl::Seconds(30) + absl::Milliseconds(500),
        absl::Seconds(240));
    model_.SetRowCap(20);
  }

  common::FakeClock clock_{kT0 + absl::Hours(1)};
  workspace_model::WorkspaceModel model_;
  std::shared_ptr<workspace_model::ModelTransport> transport_;
  std::shared_ptr<loganalytics_internal::StaticCredential> credential_;
  std::shared_ptr<QueryClient> client_;
  std::vector<absl::Duration> sleeps_;
};

TEST_F(PaginatorTest, PlansTheDocumentedQuery) {
  PaginatorOptions options = Options();
  options.initial_page_rows = 500;
  options.reread_overlap_on_start = false;
  Cursor start{kT0 + absl::Nanoseconds(123456700), "it's \\ a\n'|take 1"};
  std::unique_ptr<Paginator> paginator = Make(options, start);
  absl::StatusOr<Paginator::Plan> plan = paginator->PlanPage(kT0 + absl::Hours(1));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->kql,
            "SigninLogs\n"
            "| extend _IngestionTime = ingestion_time(), _ItemId = _ItemId\n"
            "| where _IngestionTime > datetime(2024-01-01T00:00:00.1234567Z) or "
            "(_IngestionTime == datetime(2024-01-01T00:00:00.1234567Z) and "
            "_ItemId > 'it\\'s \\\\ a\\n\\'|take 1')\n"
            "| where _IngestionTime <= datetime(2024-01-01T00:57:00.0000000Z)\n"
            "| order by _IngestionTime asc, _ItemId asc\n"
            "| take 500");
  // [cursor - 50 h lookback, now - 3 min settle + 25 h]
  EXPECT_EQ(plan->timespan,
            "2023-12-29T22:00:00.1234567Z/2024-01-02T01:57:00.0000000Z");

  // By default a new paginator first re-reads the 2-minute overlap before its cursor.
  options.reread_overlap_on_start = true;
  std::unique_ptr<Paginator> restarted = Make(options, start);
  plan = restarted->PlanPage(kT0 + absl::Hours(1));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->kql, HasSubstr("\n| where _IngestionTime >= "
                                   "datetime(2023-12-31T23:58:00.1234567Z)\n"));
  EXPECT_EQ(plan->timespan,
            "2023-12-29T21:58:00.1234567Z/2024-01-02T01:57:00.0000000Z");
}

TEST_F(PaginatorTest, SendsThePlanAsTheRequestBody) {
  auto scripted = std::make_shared<loganalytics_internal::ScriptedTransport>();
  auto client = std::make_shared<QueryClient>(scripted, credential_, QueryClientOptions());
  PaginatorOptions options = Options();
  options.base_query = "['Custom \"Table\"_CL']";
  options.has_item_id = false;
  Paginator paginator(client, options, Cursor::StartAt(kT0), clock_.AsClock());
  scripted->Push(204, "");
  absl::StatusOr<Page> page = paginator.NextPage();
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->logs.empty());
  EXPECT_TRUE(page->complete);
  EXPECT_FALSE(page->more_available);
  ASSERT_EQ(scripted->requests().size(), 1u);
  EXPECT_EQ(scripted->requests()[0].body,
            "{\"query\":\"['Custom \\\"Table\\\"_CL']\\n"
            "| extend _IngestionTime = ingestion_time()\\n"
            "| where _IngestionTime >= datetime(2023-12-31T23:58:00.0000000Z)\\n"
            "| where _IngestionTime <= datetime(2024-01-01T00:57:00.0000000Z)\\n"
            "| order by _IngestionTime asc\\n"
            "| take 10\","
            "\"timespan\":\"2023-12-29T21:58:00.0000000Z/2024-01-02T01:57:00.0000000Z\"}");
  EXPECT_EQ(page->next_cursor, Cursor::StartAt(kT0));
}

TEST_F(PaginatorTest, DeliversInOrderAcrossPagesAndMovesOnlyOnCommit) {
  for (int i = 0; i < 25; ++i) Add(absl::StrFormat("id-%02d", i), absl::Seconds(i));
  PaginatorOptions options = Options();
  options.grow_after = 1000;
  std::unique_ptr<Paginator> paginator = Make(options);
  absl::StatusOr<Page> first = paginator->NextPage();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->logs.size(), 10u);
  EXPECT_TRUE(first->more_available);
  EXPECT_EQ(first->next_cursor, (Cursor{kT0 + absl::Seconds(9), "id-09"}));
  // Not committed: the same page again.
  absl::StatusOr<Page> again = paginator->NextPage();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(KeyOf(again->logs[0]), "id-00");
  ASSERT_TRUE(paginator->Commit(*again).ok());
  EXPECT_EQ(paginator->cursor(), (Cursor{kT0 + absl::Seconds(9), "id-09"}));
  // A page read from an older cursor cannot be committed.
  absl::Status stale = paginator->Commit(*first);
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(S(stale.message()), HasSubstr("read the page again"));

  std::vector<std::string> rest = Drain(*paginator);
  ASSERT_EQ(rest.size(), 15u);
  EXPECT_EQ(rest.front(), "id-10");
  EXPECT_EQ(rest.back(), "id-24");
  EXPECT_EQ(paginator->cursor(), (Cursor{kT0 + absl::Seconds(24), "id-24"}));
}

TEST_F(PaginatorTest, HostileItemIdsNeverBreakOutOfTheLiteral) {
  const std::vector<std::string> ids = {
      "'", "''", "\\", "\\'", "a'|take 1", "a\" or 1==1", "line\nbreak", "tab\there",
      "cr\rhere", "') or (true", "x' | where 1==1 //", "\\\\'\\", "日本'語", "\x01ctl"};
  // All at the same ingestion time: every page boundary sits on a hostile _ItemId.
  for (const std::string& id : ids) Add(id, absl::Seconds(5));
  Add("zz-last", absl::Seconds(6));
  PaginatorOptions options = Options();
  options.initial_page_rows = 1;
  options.max_page_rows = 1;
  std::unique_ptr<Paginator> paginator = Make(options);
  std::vector<std::string> keys = Drain(*paginator);
  std::vector<std::string> expected = ids;
  std::sort(expected.begin(), expected.end());
  expected.push_back("zz-last");
  EXPECT_THAT(keys, ElementsAreArray(expected));
  EXPECT_EQ(model_.stats().bad_requests, 0);
}

TEST_F(PaginatorTest, LateTimeGeneratedIsCoveredByTheLookback) {
  Add("on-time", absl::Seconds(1));
  Add("two-days-late", absl::Seconds(2), absl::ZeroDuration(), absl::Hours(47));
  Add("clock-ahead", absl::Seconds(3), absl::ZeroDuration(), -absl::Hours(23));
  std::unique_ptr<Paginator> paginator = Make(Options());
  EXPECT_THAT(Drain(*paginator), ElementsAre("on-time", "two-days-late", "clock-ahead"));
}

TEST_F(PaginatorTest, SettleDelayKeepsBehindNow) {
  Add("old", absl::Minutes(50));
  Add("fresh", absl::Minutes(58));  // now is kT0 + 60 min, horizon kT0 + 57 min
  std::unique_ptr<Paginator> paginator = Make(Options());
  EXPECT_THAT(Drain(*paginator), ElementsAre("old"));
  clock_.Advance(absl::Minutes(2));
  EXPECT_THAT(Drain(*paginator), ElementsAre("fresh"));
}

TEST_F(PaginatorTest, OverlapCatchesRecordsVisibleAfterTheCursorPassed) {
  Add("a", absl::Minutes(50));
  // Ingested before "b" but queryable only 4.5 minutes after its ingestion: past the
  // 3-minute settle, within settle + 2-minute overlap.
  Add("slow", absl::Minutes(52), absl::Seconds(270));
  Add("b", absl::Minutes(53));
  clock_.Set(kT0 + absl::Minutes(56) + absl::Seconds(10));
  std::unique_ptr<Paginator> paginator = Make(Options());
  EXPECT_THAT(Drain(*paginator), ElementsAre("a", "b"));
  clock_.Set(kT0 + absl::Minutes(57));  // "slow" is visible now
  std::vector<std::string> later = Drain(*paginator);
  EXPECT_THAT(later, ElementsAre("slow"));
  // And it is not delivered again by the next re-reads of the overlap.
  clock_.Advance(absl::Minutes(1));
  EXPECT_THAT(Drain(*paginator), ElementsAre());
  EXPECT_EQ(paginator->cursor(), (Cursor{kT0 + absl::Minutes(53), "b"}));
}

TEST_F(PaginatorTest, OverlapEveryReReadsOnlyNowAndThen) {
  Add("a", absl::Minutes(50));
  Add("slow", absl::Minutes(52), absl::Seconds(250));  // visible at 56:10
  Add("b", absl::Minutes(53));
  Add("c", absl::Minutes(53) + absl::Seconds(20));
  clock_.Set(kT0 + absl::Minutes(56) + absl::Seconds(5));
  PaginatorOptions options = Options();
  options.overlap_every = absl::Seconds(60);
  std::unique_ptr<Paginator> paginator = Make(options);
  EXPECT_THAT(Drain(*paginator), ElementsAre("a", "b"));  // first page re-reads the overlap
  clock_.Set(kT0 + absl::Minutes(56) + absl::Seconds(30));
  absl::StatusOr<Page> strict = paginator->NextPage();
  ASSERT_TRUE(strict.ok()) << strict.status();
  EXPECT_FALSE(strict->overlap_read);
  EXPECT_THAT(strict->kql, HasSubstr("| where _IngestionTime > datetime(2024-01-01T00:53:00."
                                     "0000000Z) or (_IngestionTime == datetime(2024-01-01T00:"
                                     "53:00.0000000Z) and _ItemId > 'b')"));
  ASSERT_EQ(strict->logs.size(), 1u);  // "c", but not "slow" (before the cursor)
  EXPECT_EQ(KeyOf(strict->logs[0]), "c");
  ASSERT_TRUE(paginator->Commit(*strict).ok());
  clock_.Set(kT0 + absl::Minutes(57) + absl::Seconds(10));  // 65 s after the last re-read
  absl::StatusOr<Page> again = paginator->NextPage();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->overlap_read);
  ASSERT_EQ(again->logs.size(), 1u);
  EXPECT_EQ(KeyOf(again->logs[0]), "slow");
}

TEST_F(PaginatorTest, WithoutOverlapASlowRecordIsMissed) {
  Add("a", absl::Minutes(50));
  Add("slow", absl::Minutes(52), absl::Seconds(270));
  Add("b", absl::Minutes(53));
  clock_.Set(kT0 + absl::Minutes(56) + absl::Seconds(10));
  PaginatorOptions options = Options();
  options.overlap = absl::ZeroDuration();
  std::unique_ptr<Paginator> paginator = Make(options);
  EXPECT_THAT(Drain(*paginator), ElementsAre("a", "b"));
  clock_.Set(kT0 + absl::Minutes(57));
  EXPECT_THAT(Drain(*paginator), ElementsAre());
}

TEST_F(PaginatorTest, TruncatedPageIsReadAgainSmallerThenGrows) {
  for (int i = 0; i < 40; ++i) Add(absl::StrFormat("id-%02d", i), absl::Seconds(i));
  PaginatorOptions options = Options();
  options.initial_page_rows = 8;
  options.grow_after = 2;
  std::unique_ptr<Paginator> paginator = Make(options);
  model_.InjectFaults(1, Fault::Truncate(0.5));
  absl::StatusOr<Page> truncated = paginator->NextPage();
  ASSERT_TRUE(truncated.ok()) << truncated.status();
  EXPECT_FALSE(truncated->complete);
  EXPECT_TRUE(truncated->logs.empty());
  EXPECT_EQ(truncated->rows_read, 4u);  // the prefix came, and was not taken
  EXPECT_EQ(truncated->partial_error.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(S(truncated->partial_error.message()), HasSubstr("E_QUERY_RESULT_SET_TOO_LARGE"));
  EXPECT_EQ(truncated->next_cursor, paginator->cursor());
  ASSERT_TRUE(paginator->Commit(*truncated).ok());  // changes nothing
  EXPECT_EQ(paginator->page_rows(), 4);

  std::vector<int64_t> takes;
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<Page> page = paginator->NextPage();
    ASSERT_TRUE(page.ok()) << page.status();
    takes.push_back(page->take - static_cast<int64_t>(paginator->recent_size()));
    for (const plugins::Log& log : page->logs) keys.push_back(KeyOf(log));
    ASSERT_TRUE(paginator->Commit(*page).ok());
    if (!page->more_available) break;
  }
  EXPECT_EQ(keys.size(), 40u);
  EXPECT_EQ(keys.front(), "id-00");
  EXPECT_EQ(keys.back(), "id-39");
  // Halved to 4, then doubled after every two complete pages: 4, 4, 8, 8, 16 new rows;
  // the 16-row page filled its take, so one more (empty) page of 16 was read.
  EXPECT_THAT(takes, ElementsAre(4, 4, 8, 8, 16, 16));
  EXPECT_EQ(paginator->page_rows(), 32);
}

TEST_F(PaginatorTest, RowCapShrinksThePageUntilItFits) {
  for (int i = 0; i < 30; ++i) Add(absl::StrFormat("id-%02d", i), absl::Seconds(i));
  model_.SetRowCap(6);
  PaginatorOptions options = Options();
  options.initial_page_rows = 20;
  options.overlap = absl::ZeroDuration();
  std::unique_ptr<Paginator> paginator = Make(options);
  std::vector<std::string> keys = Drain(*paginator, 100);
  EXPECT_EQ(keys.size(), 30u);
  EXPECT_GE(model_.stats().row_cap_hits, 2);
}

TEST_F(PaginatorTest, AnOverlapTooBigForOneAnswerIsReReadInParts) {
  AddBusyMinuteWithACap();
  clock_.Set(kT0 + absl::Minutes(54));
  std::unique_ptr<Paginator> paginator = Make(Options());
  // Counts the pages that re-read only a part of the overlap, and the smallest budget.
  int parts = 0;
  int64_t smallest_budget = paginator->overlap_budget();
  const auto watch = [&](const Page& page) {
    if (absl::StrContains(page.kql, ") and (_IngestionTime < datetime(")) ++parts;
    smallest_budget = std::min(smallest_budget, paginator->overlap_budget());
  };
  std::vector<std::string> all;
  for (int i = 0; i < 60; ++i) all.push_back(absl::StrFormat("id-%02d", i));
  EXPECT_THAT(Round(*paginator, watch), ElementsAreArray(all));  // never kDataLoss
  EXPECT_GE(parts, 1);
  EXPECT_LT(smallest_budget, 20);
  EXPECT_GE(model_.stats().row_cap_hits, 1);
  EXPECT_EQ(paginator->cursor(), (Cursor{kT0 + absl::Minutes(50) + absl::Seconds(59), "id-59"}));

  // The slow row becomes queryable 1m30s after the cursor passed it: the next round
  // re-reads the whole overlap, in parts where needed, and finds it.
  clock_.Set(kT0 + absl::Minutes(54) + absl::Seconds(45));
  EXPECT_THAT(Round(*paginator), ElementsAre("id-30-slow"));
  // The round after that finds nothing new, and ends.
  EXPECT_THAT(Round(*paginator), ElementsAre());
}

TEST_F(PaginatorTest, ACursorThatOutrunsARoundInPartsIsReported) {
  AddBusyMinuteWithACap();
  clock_.Set(kT0 + absl::Minutes(54));
  std::unique_ptr<Paginator> paginator = Make(Options());
  bool overtaken = false;
  const auto watch = [&](const Page& page) { overtaken |= page.overlap_overtaken; };
  EXPECT_EQ(Round(*paginator, watch).size(), 60u);
  EXPECT_FALSE(overtaken);  // the parts kept up

  // A round starts in parts; then rows ingested three minutes later move the cursor
  // past the window the round was reading.
  clock_.Set(kT0 + absl::Minutes(54) + absl::Seconds(30));
  absl::StatusOr<Page> page;
  do {
    page = paginator->NextPage();
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_TRUE(paginator->Commit(*page).ok());
  } while (!page->complete || !absl::StrContains(page->kql, ") and (_IngestionTime < "));
  ASSERT_TRUE(page->more_available);  // the round is not over
  for (int i = 0; i < 5; ++i) {
    Add(absl::StrFormat("later-%d", i), absl::Minutes(53) + absl::Seconds(50 + i));
  }
  clock_.Set(kT0 + absl::Minutes(57));
  std::vector<std::string> later = Round(*paginator, watch);
  EXPECT_TRUE(overtaken);
  EXPECT_THAT(later, ::testing::IsSupersetOf({"later-0", "later-4"}));
}

TEST_F(PaginatorTest, ABusyOverlapReReadOnlyNowAndThenIsStillReadInParts) {
  AddBusyMinuteWithACap();
  clock_.Set(kT0 + absl::Minutes(54));
  PaginatorOptions options = Options();
  options.overlap_every = absl::Seconds(60);
  std::unique_ptr<Paginator> paginator = Make(options);
  EXPECT_EQ(Round(*paginator).size(), 60u);
  // A minute after the last re-read, the round re-reads every part of the overlap.
  clock_.Set(kT0 + absl::Minutes(55) + absl::Seconds(5));
  EXPECT_THAT(Round(*paginator), ElementsAre("id-30-slow"));
}

TEST_F(PaginatorTest, AnUnwritableItemIdWhereAReReadStopsDoesNotStallIt) {
  // "\x01ctl" cannot be written as a KQL string: a bound on it falls back to its time.
  const std::vector<std::string> ids = {"a", "b", "\x01ctl", "c", "d"};
  for (const std::string& id : ids) Add(id, absl::Seconds(5));
  Add("zz-last", absl::Seconds(6));
  PaginatorOptions options = Options();
  options.initial_page_rows = 1;
  options.max_page_rows = 1;
  std::unique_ptr<Paginator> first = Make(options);
  EXPECT_EQ(Drain(*first).size(), 6u);
  // A new paginator on the saved cursor re-reads the overlap a row at a time, and its
  // re-read stops on the unwritable id.
  std::unique_ptr<Paginator> second = Make(options, first->cursor());
  std::vector<std::string> again = Round(*second, nullptr, 50);
  std::vector<std::string> expected = ids;
  std::sort(expected.begin(), expected.end());
  expected.push_back("zz-last");
  EXPECT_THAT(again, ElementsAreArray(expected));  // each repeated once, in order
}

TEST_F(PaginatorTest, AnswerLargerThanTheTransportAllowsShrinksThePage) {
  for (int i = 0; i < 12; ++i) Add(absl::StrFormat("id-%02d", i), absl::Seconds(i));
  QueryClientOptions small;
  small.request.max_response_bytes = 1200;  // about 6 rows of this table
  client_ = std::make_shared<QueryClient>(transport_, credential_, small);
  PaginatorOptions options = Options();
  options.initial_page_rows = 16;
  options.overlap = absl::ZeroDuration();
  std::unique_ptr<Paginator> paginator = Make(options);
  absl::StatusOr<Page> first = paginator->NextPage();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->complete);
  EXPECT_EQ(first->partial_error.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(paginator->page_rows(), 8);
  std::vector<std::string> keys = Drain(*paginator);
  EXPECT_EQ(keys.size(), 12u);
  EXPECT_EQ(keys.back(), "id-11");
}

TEST_F(PaginatorTest, TruncatedEvenAtTheSmallestPageIsDataLoss) {
  for (int i = 0; i < 5; ++i) Add(absl::StrFormat("id-%02d", i), absl::Seconds(i));
  model_.SetRowCap(1);
  PaginatorOptions options = Options();
  options.initial_page_rows = 4;
  options.min_page_rows = 2;
  std::unique_ptr<Paginator> paginator = Make(options);
  absl::StatusOr<Page> first = paginator->NextPage();
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->complete);
  absl::StatusOr<Page> second = paginator->NextPage();
  EXPECT_EQ(second.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(S(second.status().message()),
              HasSubstr("KQL query \"SigninLogs\" page 2 on workspace " + std::string(kWs) +
                        " stays incomplete even at 2 rows per page"));
}

TEST_F(PaginatorTest, ThrottledAndFailingRequestsAreRetried) {
  Add("a", absl::Seconds(1));
  model_.InjectFaults(1, Fault::Throttle(7));
  model_.InjectFaults(1, Fault::ServerError(503));
  model_.InjectFaults(1, Fault::GatewayTimeout());
  std::unique_ptr<Paginator> paginator = Make(Options());
  absl::StatusOr<Page> page = paginator->NextPage();
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->attempts, 4);
  ASSERT_EQ(page->logs.size(), 1u);
  // Retry-After 7 s, then half of 2 s and of 4 s (jitter fixed at 0.5).
  EXPECT_THAT(sleeps_, ElementsAre(absl::Seconds(7), absl::Seconds(1), absl::Seconds(2)));
}

TEST_F(PaginatorTest, PermanentErrorsAreReturnedWithContext) {
  Add("a", absl::Seconds(1));
  PaginatorOptions options = Options();
  options.base_query = "SigninLogs | summarize count()";
  std::unique_ptr<Paginator> paginator = Make(options);
  absl::StatusOr<Page> page = paginator->NextPage();
  EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(S(page.status().message()),
              HasSubstr("KQL query \"SigninLogs\" page 1 on workspace " + std::string(kWs) +
                        " failed: HTTP 400 BadArgumentError/SyntaxError"));
}

TEST_F(PaginatorTest, MissingTableIsReportedOnceAndRetriedSlowly) {
  Add("a", absl::Seconds(1), absl::ZeroDuration(), absl::Seconds(30), "AuditLogs");
  PaginatorOptions options = Options();
  options.missing_table_retry = absl::Minutes(30);
  std::unique_ptr<Paginator> paginator = Make(options);
  absl::StatusOr<Page> first = paginator->NextPage();
  EXPECT_EQ(first.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(S(first.status().message()),
              HasSubstr("table or column 'SigninLogs' not found in this workspace"));
  EXPECT_THAT(S(first.status().message()),
              HasSubstr("not queried again before 2024-01-01T01:30:00Z"));
  EXPECT_EQ(MissingTable(first.status()), "SigninLogs");
  EXPECT_EQ(first.status().GetPayload(kNextAttemptPayload), absl::Cord("2024-01-01T01:30:00Z"));
  EXPECT_FALSE(first.status().GetPayload(kAlreadyReportedPayload).has_value());
  const int64_t queries = model_.stats().queries;

  clock_.Advance(absl::Minutes(10));
  absl::StatusOr<Page> repeat = paginator->NextPage();
  EXPECT_EQ(repeat.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(S(repeat.status().message()),
            absl::StrCat("KQL query \"SigninLogs\" on workspace ", kWs,
                         " skipped: table 'SigninLogs' was not found in this workspace "
                         "(reported at 2024-01-01T01:00:00Z); next attempt at "
                         "2024-01-01T01:30:00Z"));
  EXPECT_TRUE(repeat.status().GetPayload(kAlreadyReportedPayload).has_value());
  EXPECT_EQ(model_.stats().queries, queries);  // no query was sent

  Add("s1", absl::Minutes(65));  // the table appears
  clock_.Advance(absl::Minutes(20));
  EXPECT_THAT(Drain(*paginator), ElementsAre("s1"));
}

TEST_F(PaginatorTest, RestartFromPersistedCursorRepeatsNothing) {
  for (int i = 0; i < 12; ++i) Add(absl::StrFormat("id-%02d", i), absl::Seconds(i / 3));
  PaginatorOptions options = Options();
  options.reread_overlap_on_start = false;
  std::unique_ptr<Paginator> first = Make(options);
  absl::StatusOr<Page> page = first->NextPage();
  ASSERT_TRUE(page.ok());
  ASSERT_TRUE(first->Commit(*page).ok());
  std::vector<std::string> keys;
  for (const plugins::Log& log : page->logs) keys.push_back(KeyOf(log));
  const std::string saved = first->cursor().ToJson();
  EXPECT_EQ(saved, "{\"ingestion_time\":\"2024-01-01T00:00:03.0000000Z\",\"item_id\":\"id-09\"}");

  absl::StatusOr<Cursor> restored = Cursor::FromJson(saved);
  ASSERT_TRUE(restored.ok()) << restored.status();
  std::unique_ptr<Paginator> second = Make(options, *restored);
  for (const std::string& k : Drain(*second)) keys.push_back(k);
  std::vector<std::string> expected;
  for (int i = 0; i < 12; ++i) expected.push_back(absl::StrFormat("id-%02d", i));
  EXPECT_THAT(keys, ElementsAreArray(expected));
}

TEST_F(PaginatorTest, RestartRereadsTheOverlapSoNothingIsLost) {
  Add("a", absl::Minutes(50));
  Add("slow", absl::Minutes(52), absl::Seconds(270));  // visible at 56:30
  Add("b", absl::Minutes(53));
  clock_.Set(kT0 + absl::Minutes(56) + absl::Seconds(10));
  std::unique_ptr<Paginator> first = Make(Options());
  std::vector<plugins::Log> before;
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<Page> page = first->NextPage();
    ASSERT_TRUE(page.ok()) << page.status();
    for (plugins::Log& log : page->logs) before.push_back(log);
    ASSERT_TRUE(first->Commit(*page).ok());
    if (!page->more_available) break;
  }
  ASSERT_EQ(before.size(), 2u);  // a, b
  const std::string saved = first->cursor().ToJson();
  first.reset();  // the process stops; "slow" becomes visible meanwhile
  clock_.Set(kT0 + absl::Minutes(57));
  std::unique_ptr<Paginator> second = Make(Options(), *Cursor::FromJson(saved));
  absl::StatusOr<Page> page = second->NextPage();
  ASSERT_TRUE(page.ok()) << page.status();
  std::vector<std::string> keys;
  for (const plugins::Log& log : page->logs) keys.push_back(KeyOf(log));
  // "b" lies within the 2-minute overlap before the cursor (53:00) and comes again, with
  // the same Log.id; "slow" is not lost; "a" (50:00) is older than the overlap.
  EXPECT_THAT(keys, ElementsAre("slow", "b"));
  EXPECT_EQ(page->logs[1].id(), before[1].id());
  ASSERT_TRUE(second->Commit(*page).ok());
  EXPECT_THAT(Drain(*second), ElementsAre());
}

TEST_F(PaginatorTest, TablesWithoutItemIdProgressThroughEqualTimes) {
  // 25 rows at one ingestion time, pages of 10, no tie-breaker column.
  for (int i = 0; i < 25; ++i) Add(absl::StrFormat("same-%02d", i), absl::Seconds(7));
  Add("after", absl::Seconds(8));
  PaginatorOptions options = Options();
  options.has_item_id = false;
  options.grow_after = 1000;
  std::unique_ptr<Paginator> paginator = Make(options);
  std::vector<std::string> keys = Drain(*paginator);
  EXPECT_EQ(keys.size(), 26u);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(std::unique(keys.begin(), keys.end()), keys.end());
  EXPECT_EQ(paginator->cursor(), Cursor::StartAt(kT0 + absl::Seconds(8)));
}

TEST_F(PaginatorTest, CaughtUpCursorAtTheHorizonSendsNothing) {
  // The horizon is now - settle = 57:00; even the overlap re-read starts after it.
  std::unique_ptr<Paginator> paginator =
      Make(Options(), Cursor::StartAt(kT0 + absl::Minutes(59) + absl::Seconds(30)));
  absl::StatusOr<Page> page = paginator->NextPage();
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->attempts, 0);
  EXPECT_TRUE(page->complete);
  EXPECT_FALSE(page->more_available);
  EXPECT_EQ(transport_->requests(), 0);
}

TEST(CursorTest, JsonRoundTripAndErrors) {
  Cursor c{kT0 + absl::Nanoseconds(100), "a\"b\\c\n"};
  absl::StatusOr<Cursor> back = Cursor::FromJson(c.ToJson());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, c);
  Cursor origin;
  EXPECT_EQ(origin.ToJson(), "{\"ingestion_time\":null,\"item_id\":\"\"}");
  EXPECT_EQ(*Cursor::FromJson(origin.ToJson()), origin);
  for (const char* bad : {"", "[]", "{\"item_id\":\"x\"}",
                          "{\"ingestion_time\":\"soon\",\"item_id\":\"\"}",
                          "{\"ingestion_time\":null}"}) {
    absl::StatusOr<Cursor> parsed = Cursor::FromJson(bad);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(S(parsed.status().message()), HasSubstr("delete the checkpoint")) << bad;
  }
  EXPECT_LT(Cursor::StartAt(kT0), (Cursor{kT0, "a"}));
  EXPECT_LT((Cursor{kT0, "b"}), Cursor::StartAt(kT0 + absl::Nanoseconds(100)));
}

}  // namespace
}  // namespace loganalytics
