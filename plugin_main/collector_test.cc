// QueryCollector against real parts: the workspace model behind the query client, a
// real gRPC fake engine on a Unix socket behind EngineSink, checkpoint files on disk.
#include "plugin_main/collector.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/json_log_capture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loganalytics/identity_limiter.h"
#include "loganalytics/paginator.h"
#include "loganalytics/query_client.h"
#include "loganalytics/sleeper.h"
#include "testdata/fake_engine/fake_engine.h"
#include "testdata/fake_engine/short_temp_dir.h"
#include "testdata/workspace_model/model_transport.h"
#include "testdata/workspace_model/workspace_model.h"
#include "utmstack_sink/engine_sink.h"
#include "utmstack_sink/json_lines_sink.h"

namespace plugin_main {
namespace {

using ::testing::HasSubstr;

constexpr char kWorkspace[] = "0b6f5c4a-1111-4222-8333-944455556666";

// A credential that always hands out the same opaque token (the model only checks
// that one is present).
class StaticCredential : public azure_auth::TokenCredential {
 public:
  absl::StatusOr<azure_auth::AccessToken> GetToken(absl::string_view) override {
    return azure_auth::AccessToken{"opaque-test-token", absl::InfiniteFuture(),
                                   absl::InfinitePast()};
  }
  std::string Describe() const override { return "static test token"; }
};

class CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok()) << dir_.error();
    model_.AddWorkspace(kWorkspace);
    const absl::Time t0 = clock_.Now();
    for (int i = 0; i < kRecords; ++i) {
      workspace_model::Record r;
      r.table = "SigninLogs";
      r.item_id = absl::StrCat("item-", 100000 + i);
      r.ingestion_time = t0 - absl::Hours(20) + absl::Seconds(20 * i);
      // Every 7th record arrives late: made a day before it was ingested.
      r.time_generated = r.ingestion_time - (i % 7 == 0 ? absl::Hours(26) : absl::Seconds(30));
      r.visible_at = r.ingestion_time;
      r.columns.push_back(workspace_model::Column::String("UserPrincipalName",
                                                           absl::StrCat("user", i, "@contoso.com")));
      model_.AddRecord(kWorkspace, std::move(r));
    }
    loganalytics::QueryClientOptions client_options;
    client_options.query_host = "https://api.loganalytics.io";
    client_ = std::make_shared<loganalytics::QueryClient>(
        std::make_shared<workspace_model::ModelTransport>(&model_),
        std::make_shared<StaticCredential>(), client_options);
    store_ = std::make_shared<FileCheckpointStore>(dir_.Path("state"));
    ASSERT_TRUE(store_->EnsureDirectory().ok());
    log_ = std::make_shared<common::JsonLogger>(stderr, common::LogLevel::kWarning);
  }

  void StartEngine(int ack_every = 1, size_t max_log_bytes = 0) {
    fake_engine::FakeEngineOptions options;
    options.socket_path = dir_.Path("engine.sock");
    options.ack_every = ack_every;
    engine_ = std::make_unique<fake_engine::FakeEngine>(options);
    ASSERT_TRUE(engine_->Start().ok());
    utmstack_sink::EngineSinkOptions sink_options;
    sink_options.socket_path = dir_.Path("engine.sock");
    if (max_log_bytes > 0) sink_options.max_log_bytes = max_log_bytes;
    auto sink = utmstack_sink::EngineSink::Create(sink_options);
    ASSERT_TRUE(sink.ok()) << sink.status();
    sink_ = std::shared_ptr<utmstack_sink::Sink>(std::move(*sink));
  }

  std::shared_ptr<QueryCollector> MakeCollector(
      absl::Duration sink_deadline = absl::Seconds(20),
      std::shared_ptr<const loganalytics::StopSignal> stop = nullptr,
      const std::function<void(loganalytics::PaginatorOptions&)>& tweak = nullptr) {
    loganalytics::PaginatorOptions options;
    options.workspace_id = kWorkspace;
    options.name = "SigninLogs";
    options.base_query = "SigninLogs";
    options.initial_page_rows = 400;
    options.settle = absl::Minutes(2);
    options.convert.workspace_id = kWorkspace;
    options.convert.data_source = "prod";
    options.convert.clock = clock_.AsClock();
    if (tweak) tweak(options);
    CollectorOptions collector_options;
    collector_options.clock = clock_.AsClock();
    collector_options.sink_deadline = sink_deadline;
    collector_options.stop = std::move(stop);
    collector_options.refused = refused_;
    collector_options.refused_where = dir_.Path("refused.jsonl");
    return std::make_shared<QueryCollector>("prod", "SigninLogs", absl::Minutes(1),
                                            clock_.Now() - absl::Hours(24), options, client_,
                                            sink_, store_, log_, collector_options);
  }

  // Runs until caught up (or `max_runs`); returns the runs made.
  int Drain(QueryCollector& collector, int max_runs = 1000) {
    for (int runs = 1; runs <= max_runs; ++runs) {
      TaskOutcome outcome = collector.RunOnce();
      EXPECT_TRUE(outcome.status.ok()) << outcome.status;
      if (!outcome.status.ok() || !outcome.more_available) return runs;
    }
    return max_runs;
  }

  static constexpr int kRecords = 2500;
  fake_engine::ShortTempDir dir_{"collector"};
  common::FakeClock clock_{absl::FromUnixSeconds(1767225600)};
  workspace_model::WorkspaceModel model_{clock_.AsClock()};
  std::shared_ptr<loganalytics::QueryClient> client_;
  std::shared_ptr<FileCheckpointStore> store_;
  std::shared_ptr<common::JsonLogger> log_;
  std::unique_ptr<fake_engine::FakeEngine> engine_;
  std::shared_ptr<utmstack_sink::Sink> sink_;
  std::shared_ptr<utmstack_sink::Sink> refused_;  // unset unless a test sets it
};

TEST_F(CollectorTest, DeliversEveryRecordOnceAndSavesTheCursorAfterTheAcks) {
  StartEngine();
  auto collector = MakeCollector();
  int runs = Drain(*collector);
  EXPECT_GE(runs, 2);
  ASSERT_TRUE(sink_->Flush(absl::Now() + absl::Seconds(10)).ok());
  std::vector<std::string> ids = engine_->received_ids();
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kRecords));
  EXPECT_EQ(ids.size(), static_cast<size_t>(kRecords)) << "no record twice";
  CollectorStats stats = collector->stats();
  EXPECT_EQ(stats.rows, static_cast<uint64_t>(kRecords));
  EXPECT_EQ(stats.errors, 0u);

  auto saved = store_->Load("prod", "SigninLogs");
  ASSERT_TRUE(saved.ok() && saved->has_value());
  EXPECT_EQ((*saved)->ingestion_time,
            clock_.Now() - absl::Hours(20) + absl::Seconds(20 * (kRecords - 1)));
  EXPECT_EQ((*saved)->item_id, absl::StrCat("item-", 100000 + kRecords - 1));
  EXPECT_EQ((*saved)->rows_delivered, static_cast<uint64_t>(kRecords));
  EXPECT_TRUE((*saved)->last_error.empty());

  // Caught up: the next run reads nothing new.
  TaskOutcome again = collector->RunOnce();
  EXPECT_TRUE(again.status.ok());
  EXPECT_FALSE(again.more_available);
  EXPECT_EQ(engine_->received_count(), static_cast<uint64_t>(kRecords));
}

TEST_F(CollectorTest, ALogTheEngineCanNeverTakeIsSetAsideAndTheQueryGoesOn) {
  // One record far larger than the engine takes in one message, among the others.
  workspace_model::Record big;
  big.table = "SigninLogs";
  big.item_id = "item-big";
  big.ingestion_time = clock_.Now() - absl::Hours(10) + absl::Seconds(7);
  big.time_generated = big.ingestion_time - absl::Seconds(30);
  big.visible_at = big.ingestion_time;
  big.columns.push_back(workspace_model::Column::String("UserPrincipalName", "big@contoso.com"));
  big.columns.push_back(workspace_model::Column::String("Details", std::string(8000, 'd')));
  model_.AddRecord(kWorkspace, std::move(big));
  StartEngine(/*ack_every=*/1, /*max_log_bytes=*/4096);
  auto refused = utmstack_sink::JsonLinesSink::Open(dir_.Path("refused.jsonl"));
  ASSERT_TRUE(refused.ok()) << refused.status();
  refused_ = std::shared_ptr<utmstack_sink::Sink>(std::move(*refused));
  common::JsonLogCapture capture(common::LogLevel::kWarning);
  log_ = capture.logger();
  auto collector = MakeCollector();
  Drain(*collector);
  ASSERT_TRUE(sink_->Flush(absl::Now() + absl::Seconds(10)).ok());
  // Every other record reached the engine once, and the cursor went past the big one.
  std::vector<std::string> ids = engine_->received_ids();
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(),
            static_cast<size_t>(kRecords));
  EXPECT_EQ(ids.size(), static_cast<size_t>(kRecords));
  const CollectorStats stats = collector->stats();
  EXPECT_EQ(stats.refused, 1u);
  EXPECT_EQ(stats.rows, static_cast<uint64_t>(kRecords));
  EXPECT_EQ(stats.errors, 0u);
  auto saved = store_->Load("prod", "SigninLogs");
  ASSERT_TRUE(saved.ok() && saved->has_value());
  EXPECT_EQ((*saved)->item_id, absl::StrCat("item-", 100000 + kRecords - 1));
  // The big record is kept whole in the refused file, and the log says where.
  std::ifstream in(dir_.Path("refused.jsonl"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("big@contoso.com"));
  EXPECT_THAT(lines[0], HasSubstr(std::string(8000, 'd')));
  EXPECT_THAT(capture.Text(), HasSubstr("set aside"));
  EXPECT_THAT(capture.Text(), HasSubstr("refused.jsonl"));
  EXPECT_THAT(capture.Text(), HasSubstr("4096-byte limit"));
}

TEST_F(CollectorTest, ARestartedCollectorResumesFromTheCheckpoint) {
  StartEngine();
  {
    auto first = MakeCollector();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(first->RunOnce().status.ok());
  }
  const uint64_t after_first = engine_->received_count();
  auto second = MakeCollector();
  Drain(*second);
  ASSERT_TRUE(sink_->Flush(absl::Now() + absl::Seconds(10)).ok());
  std::vector<std::string> ids = engine_->received_ids();
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kRecords)) << "every record delivered";
  // A restart re-reads the paginator's overlap (2 min: records ingested every 20 s) to
  // catch records that became visible late; those repeats carry the same Log.id.
  EXPECT_LE(ids.size() - unique.size(), 7u);
  auto saved = store_->Load("prod", "SigninLogs");
  ASSERT_TRUE(saved.ok() && saved->has_value());
  EXPECT_EQ((*saved)->rows_delivered, ids.size());
}

TEST_F(CollectorTest, UnacknowledgedPagesDoNotMoveTheCursor) {
  StartEngine(/*ack_every=*/0);
  auto collector = MakeCollector(/*sink_deadline=*/absl::Milliseconds(300));
  TaskOutcome outcome = collector->RunOnce();
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kDeadlineExceeded);
  auto saved = store_->Load("prod", "SigninLogs");
  ASSERT_TRUE(saved.ok());
  ASSERT_TRUE(saved->has_value()) << "the error is recorded for `status`";
  EXPECT_EQ((*saved)->ingestion_time, clock_.Now() - absl::Hours(24)) << "cursor unchanged";
  EXPECT_EQ((*saved)->rows_delivered, 0u);
  EXPECT_THAT((*saved)->last_error, HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_EQ(collector->stats().rows, 0u);
}

TEST_F(CollectorTest, ACorruptCheckpointStopsThisQueryAndNamesTheFile) {
  StartEngine();
  std::ofstream(store_->PathFor("prod", "SigninLogs")) << "{ torn";
  auto collector = MakeCollector();
  TaskOutcome outcome = collector->RunOnce();
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(outcome.status.message(), HasSubstr(store_->PathFor("prod", "SigninLogs")));
  EXPECT_EQ(outcome.retry_after, absl::Minutes(5));
  EXPECT_EQ(model_.stats().queries, 0);
  EXPECT_EQ(engine_->received_count(), 0u);
}

TEST_F(CollectorTest, ThrottlingAndTruncationAreRetriedWithoutLoss) {
  StartEngine();
  model_.InjectFaults(1, workspace_model::Fault::Truncate(0.5));
  model_.InjectFaults(1, workspace_model::Fault::ServerError(503));
  auto collector = MakeCollector();
  // Runs until caught up; a run may end early on an injected fault.
  for (int i = 0; i < 200; ++i) {
    TaskOutcome outcome = collector->RunOnce();
    if (outcome.status.ok() && !outcome.more_available) break;
  }
  ASSERT_TRUE(sink_->Flush(absl::Now() + absl::Seconds(10)).ok());
  std::vector<std::string> ids = engine_->received_ids();
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kRecords));
  EXPECT_GE(collector->stats().truncations, 1u);
}

// A busy minute whose rows do not fit in one answer with the page: the overlap is
// re-read in parts, and when the cursor outruns a round of parts, the log says so.
TEST_F(CollectorTest, AnOverlapReReadInPartsThatFallsBehindIsLogged) {
  StartEngine();
  common::JsonLogCapture capture(common::LogLevel::kWarning);
  log_ = capture.logger();
  const absl::Time busy = clock_.Now() - absl::Hours(10);
  for (int i = 0; i < 60; ++i) {
    workspace_model::Record r;
    r.table = "SigninLogs";
    r.item_id = absl::StrCat("busy-", 100 + i);
    r.ingestion_time = busy + absl::Seconds(i) + absl::Milliseconds(500);
    r.time_generated = r.ingestion_time - absl::Seconds(30);
    r.visible_at = r.ingestion_time;
    model_.AddRecord(kWorkspace, std::move(r));
  }
  model_.SetRowCap(20);
  auto collector = MakeCollector(absl::Seconds(20), nullptr, [](loganalytics::PaginatorOptions& o) {
    o.initial_page_rows = 10;
    o.min_page_rows = 1;
  });
  EXPECT_LT(Drain(*collector, 5000), 5000);
  ASSERT_TRUE(sink_->Flush(absl::Now() + absl::Seconds(10)).ok());
  std::vector<std::string> ids = engine_->received_ids();
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(),
            static_cast<size_t>(kRecords + 60));
  EXPECT_THAT(capture.Text(), HasSubstr("the overlap is re-read in parts"));
  EXPECT_THAT(capture.Text(), HasSubstr("\"remembered_rows\":"));
}

// SIGTERM during an Azure outage: the page's request keeps failing with 5xx and the
// retry policy would wait and retry for up to 15 minutes. A stop request ends the wait:
// RunOnce returns kCancelled at once, and nothing is delivered or committed.
TEST_F(CollectorTest, AStopDuringAnOutageEndsTheRetryWaitAndCommitsNothing) {
  StartEngine();
  workspace_model::RandomFaults outage;
  outage.server_error = 1.0;  // every query: 500 or 503
  model_.SetRandomFaults(outage);
  auto stop = std::make_shared<loganalytics::StopSignal>();
  auto collector = MakeCollector(absl::Seconds(20), stop);
  TaskOutcome outcome;
  std::thread run([&] { outcome = collector->RunOnce(); });
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (model_.stats().server_errors < 1 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_GE(model_.stats().server_errors, 1);
  absl::SleepFor(absl::Milliseconds(100));  // the retry is waiting now
  const absl::Time stopped_at = absl::Now();
  stop->Stop();
  run.join();
  EXPECT_LT(absl::Now() - stopped_at, absl::Seconds(2));
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kCancelled) << outcome.status;
  EXPECT_THAT(outcome.status.message(), HasSubstr("stopping: retry abandoned after"));
  EXPECT_THAT(outcome.status.message(), HasSubstr("HTTP 50"));
  EXPECT_EQ(engine_->received_count(), 0u);
  auto saved = store_->Load("prod", "SigninLogs");
  ASSERT_TRUE(saved.ok());
  EXPECT_FALSE(saved->has_value()) << "nothing committed, no error recorded";
  EXPECT_EQ(collector->stats().errors, 0u) << "shutting down is not an error";
  EXPECT_EQ(collector->stats().rows, 0u);
}

// A 429 storm has every request slot of the identity taken: the page's query waits for a
// permit (up to 3 minutes). A stop ends that wait as it ends a retry wait: RunOnce
// returns kCancelled at once, nothing is sent, delivered or committed, and it is no
// error.
TEST_F(CollectorTest, AStopEndsAWaitForALimiterPermitAndCommitsNothing) {
  StartEngine();
  auto stop = std::make_shared<loganalytics::StopSignal>();
  loganalytics::IdentityLimiterOptions limiter_options;
  limiter_options.stop = stop;
  auto limiter = std::make_shared<loganalytics::IdentityLimiter>(
      limiter_options, common::SystemClock(), loganalytics::InterruptibleSleeper(stop),
      "client app-1 in tenant t1");
  std::vector<loganalytics::IdentityLimiter::Permit> held;  // the other queries' requests
  for (int i = 0; i < limiter_options.max_concurrent; ++i) {
    held.push_back(*limiter->Acquire(absl::Now()));
  }
  loganalytics::QueryClientOptions client_options;
  client_options.query_host = "https://api.loganalytics.io";
  client_options.limiter = limiter;
  client_ = std::make_shared<loganalytics::QueryClient>(
      std::make_shared<workspace_model::ModelTransport>(&model_),
      std::make_shared<StaticCredential>(), client_options);
  auto collector = MakeCollector(absl::Seconds(20), stop);
  TaskOutcome outcome;
  std::thread run([&] { outcome = collector->RunOnce(); });
  absl::SleepFor(absl::Milliseconds(300));  // waiting for a permit now
  EXPECT_EQ(model_.stats().queries, 0);
  const absl::Time stopped_at = absl::Now();
  stop->Stop();
  run.join();
  EXPECT_LT(absl::Now() - stopped_at, absl::Seconds(2));
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kCancelled) << outcome.status;
  EXPECT_THAT(std::string(outcome.status.message()),
              HasSubstr("no query slot: stopping: waiting for a Log Analytics request slot "
                        "abandoned"));
  EXPECT_EQ(model_.stats().queries, 0);
  EXPECT_EQ(engine_->received_count(), 0u);
  auto saved = store_->Load("prod", "SigninLogs");
  ASSERT_TRUE(saved.ok());
  EXPECT_FALSE(saved->has_value()) << "nothing committed, no error recorded";
  EXPECT_EQ(collector->stats().errors, 0u) << "shutting down is not an error";
  EXPECT_EQ(collector->stats().throttles, 0u);
}

}  // namespace
}  // namespace plugin_main
