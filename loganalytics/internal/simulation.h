// File: loganalytics/internal/simulation.h
//
// An end-to-end simulation of incremental reading: several workspaces of a
// WorkspaceModel filled with records that arrive late (TimeGenerated hours or days
// before ingestion, some ahead of it), become queryable a while after ingestion, share
// ingestion timestamps (so _ItemId breaks ties), and are served through random 429s,
// 5xx, 504s, truncated answers and a row cap. One QueryClient (one identity, one
// IdentityLimiter) serves a Paginator per (workspace, preset); a fake clock moves in
// ticks (starting with a backlog to catch up on), the "sink" sometimes fails (the page is not committed and is read again), and
// halfway through every paginator is rebuilt from its persisted cursor (a restart).
// Each delivered Log is matched to its record by the record's Seq column. The receiver
// drops a Log whose Log.id it has already taken (as a SIEM does with repeated ids); the
// only repeats the paginator may produce are the restart's re-read of the overlap.
//
// Example:
//   SimulationOptions options;
//   options.records = 20000;
//   SimulationResult result = RunSimulation(options);
//   std::cout << result.Describe();
//   EXPECT_TRUE(result.ok());   // every record once, none twice
//
// Not thread-safe (runs on the calling thread).
#ifndef LOGANALYTICS_INTERNAL_SIMULATION_H_
#define LOGANALYTICS_INTERNAL_SIMULATION_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "loganalytics/identity_limiter.h"
#include "loganalytics/internal/static_credential.h"
#include "loganalytics/paginator.h"
#include "loganalytics/presets.h"
#include "loganalytics/query_client.h"
#include "proto/plugins.pb.h"
#include "simdjson.h"
#include "testdata/workspace_model/model_transport.h"
#include "testdata/workspace_model/workspace_model.h"

namespace loganalytics_internal {

struct SimulationOptions {
  int workspaces = 3;
  int64_t records = 20000;
  // Ingestion times spread over this span (whole seconds, so many records share one).
  absl::Duration span = absl::Hours(6);
  uint64_t seed = 7;
  double late_fraction = 0.10;         // TimeGenerated 1 h to 47 h before ingestion
  double ahead_fraction = 0.01;        // TimeGenerated up to 20 h after ingestion
  double slow_visible_fraction = 0.05; // queryable settle .. settle + slow_extra late
  absl::Duration slow_extra = absl::Seconds(110);  // within the default 2-minute overlap
  // The reader starts this long after the first records: a backlog to catch up on.
  absl::Duration backlog = absl::Hours(2);
  double sink_failure = 0.02;          // a page is not committed
  loganalytics::PaginatorOptions paginator;  // settle, overlap, page sizes
  workspace_model::RandomFaults faults;
  int64_t row_cap = 2500;
  absl::Duration tick = absl::Seconds(20);

  SimulationOptions() {
    paginator.initial_page_rows = 2000;
    paginator.min_page_rows = 50;
    paginator.max_page_rows = 8000;
    faults.throttle = 0.03;
    faults.server_error = 0.02;
    faults.gateway_timeout = 0.01;
    faults.truncate = 0.02;
    faults.retry_after_seconds = 2;
  }
};

struct SimulationResult {
  int64_t records = 0;
  int workspaces = 0;
  int paginators = 0;
  int64_t delivered = 0;           // Logs committed
  int64_t distinct = 0;            // records delivered at least once
  int64_t repeated = 0;            // committed Logs of records already delivered
  int64_t repeat_budget = 0;       // committed rows inside the overlap at the restart
  int64_t after_dedup = 0;         // distinct Log.ids the receiver kept
  int64_t id_mismatches = 0;       // a record delivered again under another Log.id
  int64_t missing = 0;             // records never delivered
  int64_t pages = 0;               // pages committed (complete)
  int64_t incomplete_pages = 0;
  int64_t uncommitted_pages = 0;   // sink failures
  int64_t duplicates_dropped = 0;  // overlap rows the paginator dropped
  int64_t late_records = 0;
  int64_t slow_records = 0;
  int64_t min_page_rows = 0;
  int64_t max_page_rows = 0;
  int64_t query_errors = 0;        // NextPage failures after retries (read again later)
  workspace_model::ModelStats model;
  absl::Duration simulated = absl::ZeroDuration();
  double wall_seconds = 0;
  absl::Status failure;            // an unexpected error stopped the run

  // Every record delivered; after dropping repeated Log.ids, none twice; repeats only
  // from the restart's overlap re-read.
  bool ok() const {
    return failure.ok() && missing == 0 && distinct == records && after_dedup == records &&
           id_mismatches == 0 && repeated <= repeat_budget;
  }

  std::string Describe() const {
    return absl::StrFormat(
        "simulation: %d records in %d workspaces, %d paginators, %s simulated in %.2f s "
        "wall (%.0f records/s)\n"
        "  delivered %d (distinct records %d), repeats %d (restart overlap re-read; at "
        "most %d), kept after Log.id dedup %d, id mismatches %d, missing %d%s\n"
        "  late TimeGenerated %d, slow to become visible %d\n"
        "  pages committed %d, incomplete %d, not committed (sink failure) %d, page rows "
        "%d..%d, overlap rows dropped %d, NextPage errors %d\n"
        "  model: %d queries, %d answered, %d throttled (429), %d 5xx, %d 504, %d "
        "truncated, %d row-cap hits, %d bad requests, %d rows returned\n",
        records, workspaces, paginators, absl::FormatDuration(simulated), wall_seconds,
        wall_seconds > 0 ? records / wall_seconds : 0.0, delivered, distinct, repeated,
        repeat_budget, after_dedup, id_mismatches, missing, failure.ok() ? "" : absl::StrCat("\n  FAILED: ", failure.ToString()),
        late_records, slow_records, pages, incomplete_pages, uncommitted_pages,
        min_page_rows, max_page_rows, duplicates_dropped, query_errors, model.queries,
        model.answered, model.throttled, model.server_errors, model.gateway_timeouts,
        model.truncated, model.row_cap_hits, model.bad_requests, model.rows_returned);
  }
};

inline SimulationResult RunSimulation(const SimulationOptions& options) {
  using loganalytics::Cursor;
  using loganalytics::Page;
  using loganalytics::Paginator;
  using loganalytics::PaginatorOptions;
  const auto wall_start = std::chrono::steady_clock::now();
  const absl::Time t0 = absl::FromUnixSeconds(1704067200);
  common::FakeClock clock(t0);
  workspace_model::ModelOptions model_options;
  model_options.row_cap = options.row_cap;
  model_options.random = options.faults;
  workspace_model::WorkspaceModel model(clock.AsClock(), model_options);

  SimulationResult result;
  result.records = options.records;
  result.workspaces = options.workspaces;
  std::mt19937_64 random(options.seed);
  auto uniform = [&random](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(random);
  };

  // Records: Seq is the record's index, the key the delivered Logs are matched on.
  const std::vector<std::string> tables = {"SigninLogs", "AuditLogs"};
  std::vector<std::string> workspace_ids;
  for (int w = 0; w < options.workspaces; ++w) {
    workspace_ids.push_back(absl::StrFormat("%08x-0000-4000-8000-%012d", 0x5e000000 + w, w));
    model.AddWorkspace(workspace_ids.back());
  }
  const absl::Duration settle = options.paginator.settle;
  const int64_t span_seconds = absl::ToInt64Seconds(options.span);
  std::vector<absl::Time> ingested(options.records);
  std::vector<int> home(options.records);  // index of the record's reader
  for (int64_t seq = 0; seq < options.records; ++seq) {
    workspace_model::Record record;
    const size_t table_index = random() % tables.size();
    record.table = tables[table_index];
    record.item_id = absl::StrFormat("%016x-%04x", random(), seq % 0x10000);
    record.ingestion_time =
        t0 + absl::Minutes(1) + absl::Seconds(static_cast<int64_t>(random() % span_seconds));
    const double kind = uniform(0, 1);
    if (kind < options.late_fraction) {
      record.time_generated = record.ingestion_time - absl::Hours(uniform(1, 47));
      ++result.late_records;
    } else if (kind < options.late_fraction + options.ahead_fraction) {
      record.time_generated = record.ingestion_time + absl::Hours(uniform(0, 20));
    } else {
      record.time_generated = record.ingestion_time - absl::Seconds(uniform(0, 180));
    }
    if (uniform(0, 1) < options.slow_visible_fraction) {
      record.visible_at = record.ingestion_time + settle +
                          absl::Seconds(uniform(0, absl::ToDoubleSeconds(options.slow_extra)));
      ++result.slow_records;
    } else {
      record.visible_at =
          record.ingestion_time + absl::Seconds(uniform(0, absl::ToDoubleSeconds(settle) - 10));
    }
    record.columns = {workspace_model::Column::Long("Seq", seq),
                      workspace_model::Column::String("UserPrincipalName",
                                                      absl::StrCat("user", seq % 977, "@contoso.com")),
                      workspace_model::Column::Dynamic(
                          "Details", absl::StrCat("{\"n\":", seq, ",\"ok\":true}"))};
    const size_t workspace_index = random() % workspace_ids.size();
    ingested[seq] = record.ingestion_time;
    home[seq] = static_cast<int>(workspace_index * tables.size() + table_index);
    model.AddRecord(workspace_ids[workspace_index], std::move(record));
  }

  // One identity: one credential, one limiter, one client for every workspace.
  loganalytics::Sleeper sleeper = [&clock](absl::Duration d) { clock.Advance(d); };
  auto limiter = std::make_shared<loganalytics::IdentityLimiter>(
      loganalytics::IdentityLimiterOptions(), clock.AsClock(), sleeper, "simulation");
  loganalytics::QueryClientOptions client_options;
  client_options.limiter = limiter;
  client_options.clock = clock.AsClock();
  auto client = std::make_shared<loganalytics::QueryClient>(
      std::make_shared<workspace_model::ModelTransport>(&model),
      std::make_shared<StaticCredential>(std::vector<std::string>{"simulation-token"}),
      client_options);

  struct Reader {
    PaginatorOptions options;
    std::string saved;  // the persisted cursor
    std::unique_ptr<Paginator> paginator;
  };
  std::vector<Reader> readers;
  for (const std::string& ws : workspace_ids) {
    for (const std::string& table : tables) {
      Reader reader;
      PaginatorOptions base = options.paginator;
      base.convert.clock = clock.AsClock();
      base.retry.initial_backoff = absl::Seconds(1);
      reader.options = loganalytics::PaginatorOptionsFor(*loganalytics::FindPreset(table), ws,
                                                        "simulation", base);
      reader.saved = Cursor::StartAt(t0).ToJson();
      readers.push_back(std::move(reader));
    }
  }
  result.paginators = static_cast<int>(readers.size());
  auto build = [&](Reader& reader) {
    absl::StatusOr<Cursor> cursor = Cursor::FromJson(reader.saved);
    reader.paginator = std::make_unique<Paginator>(
        client, reader.options, cursor.ok() ? *cursor : Cursor::StartAt(t0), clock.AsClock(),
        sleeper, [&uniform] { return uniform(0, 1); });
  };
  for (Reader& reader : readers) build(reader);

  clock.Set(t0 + options.backlog);
  std::vector<uint8_t> seen(options.records, 0);
  std::vector<std::string> id_of(options.records);
  absl::flat_hash_set<std::string> receiver;  // Log.ids taken
  result.min_page_rows = options.paginator.max_page_rows;
  simdjson::dom::parser parser;
  const absl::Time end = t0 + options.span + absl::Minutes(1) + settle + options.slow_extra +
                         absl::Minutes(5);
  bool restarted = false;
  while (clock.Now() < end && result.failure.ok()) {
    clock.Advance(options.tick);
    if (!restarted && clock.Now() >= t0 + options.span / 2) {
      restarted = true;  // the process restarts: paginators come back from saved cursors
      for (size_t r = 0; r < readers.size(); ++r) {
        const absl::Time from =
            readers[r].paginator->cursor().ingestion_time - options.paginator.overlap;
        for (int64_t seq = 0; seq < options.records; ++seq) {
          if (seen[seq] > 0 && home[seq] == static_cast<int>(r) && ingested[seq] >= from) {
            ++result.repeat_budget;
          }
        }
      }
      for (Reader& reader : readers) build(reader);
    }
    for (Reader& reader : readers) {
      for (int round = 0; round < 10000; ++round) {
        absl::StatusOr<Page> page = reader.paginator->NextPage();
        if (!page.ok()) {
          if (loganalytics::RetryPolicy::IsRetryable(page.status())) {
            ++result.query_errors;  // given up for now; the next tick reads again
            break;
          }
          result.failure = page.status();
          break;
        }
        result.min_page_rows = std::min(result.min_page_rows, reader.paginator->page_rows());
        result.max_page_rows = std::max(result.max_page_rows, reader.paginator->page_rows());
        if (!page->complete) {
          ++result.incomplete_pages;
          continue;
        }
        if (!page->logs.empty() && uniform(0, 1) < options.sink_failure) {
          ++result.uncommitted_pages;  // the sink did not confirm: read again
          continue;
        }
        for (const plugins::Log& log : page->logs) {
          simdjson::dom::element doc;
          int64_t seq = -1;
          if (parser.parse(log.raw()).get(doc) != simdjson::SUCCESS ||
              doc["Seq"].get(seq) != simdjson::SUCCESS || seq < 0 || seq >= options.records) {
            result.failure = absl::DataLossError(absl::StrCat("Log without Seq: ", log.raw()));
            break;
          }
          ++result.delivered;
          if (seen[seq]++ > 0) {
            ++result.repeated;
            if (id_of[seq] != log.id()) ++result.id_mismatches;
          } else {
            id_of[seq] = log.id();
          }
          receiver.insert(log.id());
        }
        result.duplicates_dropped += page->duplicates;
        if (absl::Status s = reader.paginator->Commit(*page); !s.ok()) {
          result.failure = s;
          break;
        }
        ++result.pages;
        reader.saved = page->next_cursor.ToJson();
        if (!page->more_available) break;
      }
      if (!result.failure.ok()) break;
    }
  }
  for (uint8_t s : seen) {
    if (s > 0) ++result.distinct;
    if (s == 0) ++result.missing;
  }
  result.after_dedup = static_cast<int64_t>(receiver.size());
  result.model = model.stats();
  result.simulated = clock.Now() - t0;
  result.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return result;
}

}  // namespace loganalytics_internal

#endif  // LOGANALYTICS_INTERNAL_SIMULATION_H_
