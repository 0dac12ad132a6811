// File: plugin_main/collector.h
//
// One (workspace, query) as a scheduled task: each run reads one page with the
// paginator, hands its Logs to the sink, waits until the sink confirmed them, and only
// then commits the page and saves the checkpoint. Whatever fails in between (Azure,
// the engine, the disk), the saved cursor still points before every unconfirmed Log, so
// the page is read again: at-least-once, with stable Log ids for the repeats.
//
// Example:
//   auto collector = std::make_shared<plugin_main::QueryCollector>(
//       "prod", "SigninLogs", /*poll_interval=*/absl::Seconds(60),
//       /*start_at=*/absl::InfinitePast(),   // no checkpoint yet: start now
//       paginator_options, client, sink, store, log);
//   scheduler.Add(collector);
//   ...
//   plugin_main::CollectorStats stats = collector->stats();
//
// Thread-safe: RunOnce is called by one scheduler thread at a time; stats() from any.
//
// Status codes (TaskOutcome::status of RunOnce): the paginator's (kNotFound for a missing
// table, kUnauthenticated, kPermissionDenied, kResourceExhausted, kUnavailable, ...), the
// sink's (kDeadlineExceeded: the page was not acknowledged in time), the checkpoint
// store's (kDataLoss for a corrupt checkpoint, kResourceExhausted for a full disk). In
// every case the unconfirmed page is read again. kCancelled when CollectorOptions::stop
// ended a retry or limiter wait: not counted as an error, and the page is read again at
// the next start.
#ifndef PLUGIN_MAIN_COLLECTOR_H_
#define PLUGIN_MAIN_COLLECTOR_H_

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/json_log.h"
#include "loganalytics/paginator.h"
#include "loganalytics/query_client.h"
#include "loganalytics/sleeper.h"
#include "plugin_main/checkpoint_store.h"
#include "plugin_main/config.h"
#include "plugin_main/scheduler.h"
#include "utmstack_sink/sink.h"

namespace plugin_main {

// Counters of one (workspace, query), totals since start.
struct CollectorStats {
  uint64_t pages = 0;
  uint64_t rows = 0;         // Logs confirmed by the sink
  uint64_t bytes = 0;        // their raw JSON bytes
  uint64_t duplicates = 0;   // rows re-read in the overlap and dropped
  uint64_t retries = 0;      // extra requests made by the retry policy
  uint64_t throttles = 0;    // pages that ended in 429 after retries
  uint64_t truncations = 0;  // incomplete pages (re-read smaller)
  uint64_t refused = 0;      // Logs the sink can never take, set aside (see below)
  uint64_t errors = 0;
  absl::Time cursor = absl::InfinitePast();
  std::string last_error;
  absl::Time last_success = absl::InfinitePast();
};

struct CollectorOptions {
  // How long a page's Logs may take to be taken and acknowledged by the sink.
  absl::Duration sink_deadline = absl::Minutes(2);
  common::Clock clock = common::SystemClock();
  // When set, a stop request ends the paginator's retry waits (an Azure outage retries
  // for up to 15 minutes): RunOnce returns kCancelled at once, commits nothing, and the
  // page is read again at the next start. The client's limiter should stop with the
  // same signal (StoppableLimiters in runtime.h): its kCancelled for a wait for a
  // permit is then taken the same way, not as an error.
  std::shared_ptr<const loganalytics::StopSignal> stop;
  // Where a Log goes that the sink can never take (Sink::Check: e.g. over the engine's
  // message limit), so that it neither blocks its query for good nor is lost: each is
  // written here, flushed before the page is committed, and logged as an error. Unset:
  // such a Log fails its page, which is read again (and fails again) until the query
  // is changed.
  // (A Log `refused` cannot take either, one not UTF-8, which the converter never
  // makes from the JSON it validated, still fails its page.)
  std::shared_ptr<utmstack_sink::Sink> refused;
  // Where `refused` writes (a file path), for the error line.
  std::string refused_where;
};

class QueryCollector : public ScheduledTask {
 public:
  QueryCollector(std::string workspace_name, std::string query_name,
                 absl::Duration poll_interval, absl::Time start_at,
                 loganalytics::PaginatorOptions paginator_options,
                 std::shared_ptr<const loganalytics::QueryClient> client,
                 std::shared_ptr<utmstack_sink::Sink> sink,
                 std::shared_ptr<CheckpointStore> store,
                 std::shared_ptr<common::JsonLogger> log, CollectorOptions options = {})
      : workspace_(std::move(workspace_name)),
        query_(std::move(query_name)),
        poll_interval_(poll_interval),
        start_at_(start_at),
        paginator_options_(std::move(paginator_options)),
        client_(std::move(client)),
        sink_(std::move(sink)),
        store_(std::move(store)),
        log_(std::move(log)),
        options_(std::move(options)) {}

  std::string Name() const override { return absl::StrCat(workspace_, "/", query_); }
  absl::Duration PollInterval() const override { return poll_interval_; }

  CollectorStats stats() const {
    absl::MutexLock lock(&mu_);
    return stats_;
  }

  TaskOutcome RunOnce() override {
    TaskOutcome outcome;
    if (absl::Status s = EnsurePaginator(); !s.ok()) {
      outcome.status = s;
      // A corrupt checkpoint will not heal by itself: retry rarely, say it each time.
      outcome.retry_after = absl::Minutes(5);
      Fail(s, "cannot start reading: the checkpoint must be fixed", /*save=*/false);
      return outcome;
    }
    absl::StatusOr<loganalytics::Page> page = paginator_->NextPage();
    if (!page.ok() && page.status().code() == absl::StatusCode::kCancelled &&
        options_.stop != nullptr && options_.stop->stopped()) {
      // Shutting down, not a failure of the workspace: no error count, no last_error.
      outcome.status = page.status();
      log_->Info("stopping: the page was not read; it will be read at the next start",
                 {{"workspace", workspace_}, {"query", query_},
                  {"reason", page.status().message()}});
      return outcome;
    }
    if (!page.ok()) {
      outcome.status = page.status();
      if (auto next = page.status().GetPayload(loganalytics::kNextAttemptPayload)) {
        absl::Time when;
        std::string err;
        if (absl::ParseTime(absl::RFC3339_full, std::string(*next), &when, &err) &&
            when > options_.clock()) {
          outcome.retry_after = when - options_.clock();
        }
      }
      if (page.status().code() == absl::StatusCode::kResourceExhausted) {
        Count([](CollectorStats& s) { ++s.throttles; });
      }
      if (!page.status().GetPayload(loganalytics::kAlreadyReportedPayload)) {
        Fail(page.status(), "reading a page failed; it will be read again", /*save=*/true);
      }
      return outcome;
    }
    Count([&](CollectorStats& s) {
      s.retries += page->attempts > 1 ? page->attempts - 1 : 0;
      s.duplicates += page->duplicates;
    });
    if (!page->complete) {
      Count([](CollectorStats& s) { ++s.truncations; });
      log_->Warning("the answer was truncated; reading the same range again with a smaller page",
                    {{"workspace", workspace_}, {"query", query_},
                     {"reason", page->partial_error.message()}},
                    {{"take", static_cast<double>(page->take)}});
      outcome.more_available = true;
      return outcome;
    }
    if (page->overlap_overtaken) {
      log_->Warning(
          "the overlap is re-read in parts (its rows do not fit in one answer) and the "
          "cursor moved on faster than the parts: some of it was not re-read this round, so "
          "a record that became queryable there late can be missed; project fewer columns "
          "in the query so that more rows fit in an answer",
          {{"workspace", workspace_}, {"query", query_}},
          {{"remembered_rows", static_cast<double>(page->remembered_in_take)}});
    }
    size_t count = page->logs.size();
    uint64_t bytes = 0;
    // Logs the sink can never take, with why; set aside once the rest is acknowledged
    // (so that a page read again after an engine outage does not write them again).
    std::vector<std::pair<plugins::Log, absl::Status>> refused;
    // Real time: the sink waits on real acknowledgements whatever clock reads Azure.
    const absl::Time deadline = absl::Now() + options_.sink_deadline;
    for (plugins::Log& log : page->logs) {
      if (options_.refused != nullptr) {
        if (absl::Status why = sink_->Check(log); !why.ok()) {
          refused.emplace_back(std::move(log), std::move(why));
          continue;
        }
      }
      bytes += log.raw().size();
      if (absl::Status s = sink_->Send(std::move(log), deadline); !s.ok()) {
        outcome.status = s;
        Fail(s, s.code() == absl::StatusCode::kInvalidArgument
                    ? "the engine can never take a log of this page; it will be read again"
                    : "the engine did not take the page in time; it will be read again",
             true);
        return outcome;
      }
    }
    count -= refused.size();
    if (count > 0) {
      if (absl::Status s = sink_->Flush(deadline); !s.ok()) {
        outcome.status = s;
        Fail(s, "the engine did not acknowledge the page in time; it will be read again", true);
        return outcome;
      }
    }
    if (!refused.empty()) {
      absl::Status saved;
      for (auto& [log, why] : refused) {
        saved = SetAside(std::move(log), why, deadline);
        if (!saved.ok()) break;
      }
      if (saved.ok()) saved = options_.refused->Flush(deadline);
      if (!saved.ok()) {
        outcome.status = saved;
        Fail(saved, "the logs the engine cannot take could not be saved; the page will be "
                    "read again", true);
        return outcome;
      }
      Count([&](CollectorStats& s) { s.refused += refused.size(); });
    }
    if (absl::Status s = paginator_->Commit(*page); !s.ok()) {
      outcome.status = s;
      Fail(s, "committing the page failed", false);
      return outcome;
    }
    Checkpoint cp;
    cp.ingestion_time = page->next_cursor.ingestion_time;
    cp.item_id = page->next_cursor.item_id;
    cp.updated_at = options_.clock();
    {
      absl::MutexLock lock(&mu_);
      cp.rows_delivered = rows_persisted_ + count;
    }
    if (absl::Status s = store_->Save(workspace_, query_, cp); !s.ok()) {
      // The Logs are delivered; the cursor on disk lags. Keep going in memory, and say
      // so: after a restart the pages since the last saved checkpoint are repeated.
      outcome.status = s;
      Fail(s, "saving the checkpoint failed; delivered pages will repeat after a restart",
           false);
    } else {
      absl::MutexLock lock(&mu_);
      rows_persisted_ += count;
    }
    Count([&](CollectorStats& s) {
      ++s.pages;
      s.rows += count;
      s.bytes += bytes;
      s.cursor = page->next_cursor.ingestion_time;
      s.last_success = options_.clock();
      if (outcome.status.ok()) s.last_error.clear();
    });
    if (count > 0) {
      log_->Debug("page delivered", {{"workspace", workspace_}, {"query", query_}},
                  {{"rows", static_cast<double>(count)},
                   {"duplicates", static_cast<double>(page->duplicates)}});
    }
    outcome.more_available = page->more_available;
    return outcome;
  }

 private:
  absl::Status EnsurePaginator() {
    if (paginator_ != nullptr) return absl::OkStatus();
    absl::StatusOr<std::optional<Checkpoint>> saved = store_->Load(workspace_, query_);
    if (!saved.ok()) return saved.status();
    loganalytics::Cursor start;
    if (saved->has_value()) {
      start.ingestion_time = (*saved)->ingestion_time;
      start.item_id = (*saved)->item_id;
      absl::MutexLock lock(&mu_);
      rows_persisted_ = (*saved)->rows_delivered;
    } else {
      start = loganalytics::Cursor::StartAt(
          start_at_ == absl::InfinitePast() ? options_.clock() : start_at_);
      log_->Info("no checkpoint yet: starting", {{"workspace", workspace_}, {"query", query_},
                                                 {"from", absl::FormatTime(start.ingestion_time)}});
    }
    start_cursor_ = start;
    loganalytics::PaginatorOptions paginator_options = paginator_options_;
    loganalytics::Sleeper sleeper = loganalytics::RealSleeper();
    if (options_.stop != nullptr) {
      paginator_options.retry.stop = options_.stop;
      sleeper = loganalytics::InterruptibleSleeper(options_.stop);
    }
    paginator_ = std::make_unique<loganalytics::Paginator>(client_, paginator_options, start,
                                                           options_.clock, sleeper);
    return absl::OkStatus();
  }

  // Writes a Log the sink refused for good (`why`) to options_.refused and says so.
  absl::Status SetAside(plugins::Log log, const absl::Status& why, absl::Time deadline) {
    const std::string id = log.id();
    const size_t bytes = log.ByteSizeLong();
    if (absl::Status s = options_.refused->Send(std::move(log), deadline); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("log ", id, ": ", why.message(),
                                                 "; setting it aside failed: ", s.message()));
    }
    log_->Error("a log the engine can never take was set aside instead of sent; the query "
                "goes on",
                {{"workspace", workspace_}, {"query", query_}, {"log_id", id},
                 {"reason", why.message()}, {"set_aside_in", options_.refused_where}},
                {{"bytes", static_cast<double>(bytes)}});
    return absl::OkStatus();
  }

  void Fail(const absl::Status& status, absl::string_view what, bool save) {
    log_->Error(what, {{"workspace", workspace_}, {"query", query_},
                       {"code", absl::StatusCodeToString(status.code())},
                       {"error", status.message()}});
    const std::string text = absl::StrCat(absl::StatusCodeToString(status.code()), ": ",
                                          status.message());
    Count([&](CollectorStats& s) {
      ++s.errors;
      s.last_error = text;
    });
    if (!save) return;
    // Record the error next to the (unchanged) committed cursor, for `status`.
    absl::StatusOr<std::optional<Checkpoint>> saved = store_->Load(workspace_, query_);
    if (!saved.ok()) {
      // The checkpoint read at the start cannot be read now: the next start will stop
      // on it, so say so while the cause may still be at hand.
      log_->Error("the checkpoint cannot be read back to record the error",
                  {{"workspace", workspace_}, {"query", query_},
                   {"error", saved.status().message()}});
      return;
    }
    if (!saved->has_value() && paginator_ == nullptr) return;
    Checkpoint cp = saved->value_or(Checkpoint{});
    if (!saved->has_value()) {
      // First run: record where reading started, so a restart does not skip past it.
      cp.ingestion_time = start_cursor_.ingestion_time;
      cp.item_id = start_cursor_.item_id;
    }
    cp.last_error = text;
    cp.updated_at = options_.clock();
    if (absl::Status s = store_->Save(workspace_, query_, cp); !s.ok()) {
      log_->Error("the error could not be recorded in the checkpoint (its cursor is "
                  "unchanged)",
                  {{"workspace", workspace_}, {"query", query_}, {"error", s.message()}});
    }
  }

  template <typename F>
  void Count(F&& f) {
    absl::MutexLock lock(&mu_);
    f(stats_);
  }

  const std::string workspace_;
  const std::string query_;
  const absl::Duration poll_interval_;
  const absl::Time start_at_;
  const loganalytics::PaginatorOptions paginator_options_;
  std::shared_ptr<const loganalytics::QueryClient> client_;
  std::shared_ptr<utmstack_sink::Sink> sink_;
  std::shared_ptr<CheckpointStore> store_;
  std::shared_ptr<common::JsonLogger> log_;
  const CollectorOptions options_;
  std::unique_ptr<loganalytics::Paginator> paginator_;
  loganalytics::Cursor start_cursor_;
  mutable absl::Mutex mu_;
  CollectorStats stats_;
  uint64_t rows_persisted_ = 0;
};

}  // namespace plugin_main

#endif  // PLUGIN_MAIN_COLLECTOR_H_
