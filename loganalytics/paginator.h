// File: loganalytics/paginator.h
//
// Reads one KQL query of one workspace incrementally, by ingestion time, without gaps
// and without duplicates. Each page asks for
//
//   <base query>
//   | extend _IngestionTime = ingestion_time(), _ItemId = _ItemId
//   | where _IngestionTime > datetime(<t>) or (_IngestionTime == datetime(<t>) and _ItemId > '<id>')
//   | where _IngestionTime <= datetime(<now - settle>)
//   | order by _IngestionTime asc, _ItemId asc
//   | take <page rows + recently delivered rows>
//
// with the request timespan [lower bound - lookback, now - settle + future_margin] so
// records whose TimeGenerated lies far from their ingestion are still in range (Azure
// keeps TimeGenerated within 2 days before and 1 day after ingestion).
//
// The cursor (ingestion time, _ItemId of the last delivered row) is the caller's: the
// paginator returns each Page with the cursor that follows it, the caller hands the
// Logs to its sink, and only after the sink confirmed them calls Commit(page) and
// persists page.next_cursor. A page that was not committed is read again.
//
// Records can become queryable a little after their ingestion time. The paginator
// stays `settle` behind now, and re-reads an `overlap` before the cursor on every page,
// dropping the rows it delivered already (it remembers the keys of the rows delivered
// within the overlap, at most `max_recent`; the take grows by that many rows so new
// rows always fit). A record becoming visible more than settle + overlap after its
// ingestion time can be missed; widen them for sources known to be slower.
//
// A new Paginator has no memory of what an earlier process delivered. By default
// (reread_overlap_on_start) its first pages read the overlap before the saved cursor
// again and deliver those rows once more, so a record that became visible there while
// the process was down is not lost; the repeats carry the same Log.id (derived from the
// record), so the receiver can recognise them. Without it, a restart repeats nothing
// that was committed, and such a late-visible record can be missed.
//
// Tables without _ItemId (has_item_id = false: a base query that projects it away)
// have no tie-breaker: each page re-reads from the cursor's time (inclusive), and rows
// are recognised by a hash of their content (the converter's Log.id; two rows equal in
// every column count as one). After a restart the rows at exactly the saved cursor time
// are delivered again, repeats with the same Log.id.
//
// A truncated answer (PartialError such as E_QUERY_RESULT_SET_TOO_LARGE, an answer
// cut short, or one larger than the transport allows) is never delivered: the page
// comes back with complete = false and no Logs, the page size is halved, and the next
// call reads the same range again. After `grow_after` complete pages in a row the page
// size doubles again, up to max_page_rows. Transient failures (429, 5xx, 504) are
// retried with the RetryPolicy before NextPage gives up.
//
// The overlap's remembered rows count against the answer's limits too (Azure caps an
// answer at 500,000 rows and about 64 MB; with up to max_recent = 20,000 remembered
// rows it is the size cap that wide rows reach): on a busy table, the rows of two
// minutes may not fit in one answer whatever the page size. When a page is still truncated at
// min_page_rows and it re-read remembered rows, the overlap is re-read in parts instead
// (tables with _ItemId): each page re-reads the overlap from where the previous one
// stopped up to at most a budget of remembered rows, and the rows after the cursor,
//
//   | where ((<after part start>) and (<at or before part end>)) or (<after cursor>)
//
// The budget halves on each such truncation (and with the page size while parts are
// read and they are most of the take) and doubles again with the page size; a
// page reports more_available until its parts have covered the whole overlap once, so
// a caller that reads until caught up still re-reads all of it on each round (a round
// that a transient error ends resumes where it stopped, at the caller's next call). The
// net narrows while parts are read: a round that takes longer than the rows of its
// oldest part stay in the overlap skips them (they left the window).
//
// A table that does not exist in the workspace (yet) is reported once as kNotFound
// with kNextAttemptPayload; calls before that time return kNotFound at once (with
// kAlreadyReportedPayload) without querying, so a scheduler neither spins nor floods.
//
// Every value written into the KQL is escaped (kql.h): datetimes are produced from
// absl::Time, the _ItemId goes through QuoteString.
//
// Example:
//   Paginator paginator(client, options, checkpoint.Load().value_or(
//                           Cursor::StartAt(absl::Now() - absl::Hours(24))));
//   while (true) {
//     absl::StatusOr<Page> page = paginator.NextPage();
//     if (!page.ok()) return page.status();           // kNotFound: table missing, ...
//     for (plugins::Log& log : page->logs) sink.Send(std::move(log), deadline);
//     if (absl::Status s = sink.Flush(deadline); !s.ok()) return s;  // page read again
//     if (absl::Status s = paginator.Commit(*page); !s.ok()) return s;
//     checkpoint.Save(page->next_cursor.ToJson());
//     if (page->complete && !page->more_available) break;   // caught up
//   }
//
// Status codes: NextPage returns kNotFound (table missing; reported once), kDataLoss
// (truncated even at min_page_rows), kInvalidArgument (KQL rejected, answer unreadable),
// and the query client's kUnauthenticated, kPermissionDenied, kUnavailable,
// kDeadlineExceeded, kResourceExhausted once the RetryPolicy gave up. Commit returns
// kFailedPrecondition for a page not read from the current cursor.
//
// Not thread-safe: one Paginator per (workspace, query), used from one thread at a
// time. Different paginators may share a QueryClient.
#ifndef LOGANALYTICS_PAGINATOR_H_
#define LOGANALYTICS_PAGINATOR_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "loganalytics/convert/log_converter.h"
#include "loganalytics/internal/json_writer.h"
#include "loganalytics/internal/kql.h"
#include "loganalytics/query_client.h"
#include "loganalytics/query_error.h"
#include "loganalytics/retry_policy.h"
#include "loganalytics/sleeper.h"
#include "proto/plugins.pb.h"
#include "simdjson.h"

namespace loganalytics {

// Set on the kNotFound of a missing table: when the paginator will query again
// (RFC 3339 UTC).
inline constexpr absl::string_view kNextAttemptPayload = "loganalytics.next-attempt";
// Set when the status repeats one already returned (log it at a lower level).
inline constexpr absl::string_view kAlreadyReportedPayload = "loganalytics.already-reported";

// Where reading stands: everything up to (ingestion_time, item_id), in the order
// (ingestion time, then _ItemId as bytes), has been delivered and confirmed. A value:
// the caller persists it (ToJson/FromJson, or its own fields).
struct Cursor {
  // InfinitePast: from the start of the workspace's retention.
  absl::Time ingestion_time = absl::InfinitePast();
  // _ItemId of the last delivered row at ingestion_time; empty: none yet at that time.
  std::string item_id;

  // Everything ingested before `t` counts as delivered.
  static Cursor StartAt(absl::Time t) { return Cursor{t, ""}; }

  // {"ingestion_time":"2024-01-01T00:00:00.1234567Z","item_id":"…"}; the time is null
  // for InfinitePast. Thread-safe.
  std::string ToJson() const {
    std::string out = "{\"ingestion_time\":";
    if (ingestion_time == absl::InfinitePast()) {
      out.append("null");
    } else {
      loganalytics_internal::AppendJsonStringUnchecked(
          loganalytics_internal::FormatDatetime(ingestion_time), &out);
    }
    out.append(",\"item_id\":");
    // Item ids come from JSON answers and are UTF-8; an invalid byte is kept as is.
    loganalytics_internal::AppendJsonStringUnchecked(item_id, &out);
    out.push_back('}');
    return out;
  }

  // Reads ToJson()'s form. Returns kInvalidArgument (saying what is wrong) for anything
  // else. Thread-safe.
  static absl::StatusOr<Cursor> FromJson(absl::string_view json) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    auto invalid = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(
          "saved cursor ", query_error_internal::Quote(json, 200), " is not valid: ", why,
          "; delete the checkpoint to start again from the configured start time"));
    };
    if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS ||
        !doc.is_object()) {
      return invalid("not a JSON object");
    }
    Cursor cursor;
    simdjson::dom::element time;
    std::string_view text;
    if (doc["ingestion_time"].get(time) != simdjson::SUCCESS) {
      return invalid("no \"ingestion_time\"");
    }
    if (!time.is_null()) {
      if (time.get(text) != simdjson::SUCCESS) return invalid("\"ingestion_time\" is not a string");
      absl::StatusOr<absl::Time> t =
          loganalytics_internal::ParseDatetime(absl::string_view(text.data(), text.size()));
      if (!t.ok()) return invalid(t.status().message());
      cursor.ingestion_time = *t;
    }
    if (doc["item_id"].get(text) != simdjson::SUCCESS) {
      return invalid("\"item_id\" is missing or not a string");
    }
    cursor.item_id = std::string(text);
    return cursor;
  }

  friend bool operator==(const Cursor& a, const Cursor& b) {
    return a.ingestion_time == b.ingestion_time && a.item_id == b.item_id;
  }
  friend bool operator!=(const Cursor& a, const Cursor& b) { return !(a == b); }
  // Reading order: ingestion time, then item id as bytes.
  friend bool operator<(const Cursor& a, const Cursor& b) {
    return std::tie(a.ingestion_time, a.item_id) < std::tie(b.ingestion_time, b.item_id);
  }
};

struct PaginatorOptions {
  std::string workspace_id;
  // How the operator knows this query ("SigninLogs"), for messages.
  std::string name;
  // The KQL whose rows are read: a table, a union, or a filter over them; it must keep
  // table rows (ingestion_time() needs them) and, with has_item_id, _ItemId.
  std::string base_query;
  bool has_item_id = true;
  // Stay this far behind now: records need 20 s to 3 min to become queryable.
  absl::Duration settle = absl::Minutes(3);
  // Re-read this far before the cursor on every page, dropping rows already delivered.
  absl::Duration overlap = absl::Minutes(2);
  // At most this many delivered rows are remembered for the overlap.
  size_t max_recent = 20000;
  // A new Paginator re-reads the overlap before its start cursor (see the top).
  bool reread_overlap_on_start = true;
  // Zero: every page re-reads the overlap. Positive: only a page at least this long
  // after the last committed overlap re-read does; the others read strictly after the
  // cursor. Cuts the rows read again (about overlap / poll interval + 1 times each row
  // otherwise) at the price of a narrower net: a record is then caught only if it
  // becomes queryable within settle + overlap - overlap_every of its ingestion.
  absl::Duration overlap_every = absl::ZeroDuration();
  // Timespan start = lower bound - lookback (TimeGenerated may be up to 2 days older
  // than the ingestion).
  absl::Duration lookback = absl::Hours(50);
  // Timespan end = now - settle + future_margin (TimeGenerated may be up to a day ahead).
  absl::Duration future_margin = absl::Hours(25);
  int64_t initial_page_rows = 10000;
  int64_t min_page_rows = 10;
  // Below Azure's 500,000-row cap; the size cap (~64 MB) halves it when reached.
  int64_t max_page_rows = 100000;
  // Complete pages in a row before the page size doubles again.
  int grow_after = 2;
  // How long a missing table is left alone before it is queried again.
  absl::Duration missing_table_retry = absl::Hours(1);
  // Row -> Log conversion (workspace_id is filled in from above when empty).
  ConvertOptions convert;
  RetryOptions retry;
};

// One page of results.
struct Page {
  // The new rows, in reading order; empty when the page is incomplete.
  std::vector<plugins::Log> logs;
  // The cursor to persist once `logs` are confirmed (after Commit(page)).
  Cursor next_cursor;
  // False: the answer was truncated or partial; nothing was taken from it and the next
  // NextPage() reads the same range again with a smaller page. `partial_error` says why.
  bool complete = true;
  // True: the answer was full (or incomplete), so more rows may be waiting now, or the
  // overlap is being re-read in parts and the round has not covered all of it yet.
  bool more_available = false;
  absl::Status partial_error;
  // The take of this page's query (page rows + remembered rows).
  int64_t take = 0;
  // Remembered rows counted in the take (the part of the overlap this page re-read).
  int64_t remembered_in_take = 0;
  // Rows in the answer, and of those the ones dropped as already delivered.
  size_t rows_read = 0;
  size_t duplicates = 0;
  // Requests made for this page (retries included); 0 when no query was needed.
  int attempts = 0;
  // The KQL and timespan sent.
  std::string kql;
  std::string timespan;

  // For Commit(): the cursor the page was read from and the delivered rows' keys.
  Cursor base_cursor;
  bool overlap_read = false;  // this page re-read the overlap
  absl::Time read_at;
  std::vector<Cursor> delivered;
  // Where the next page's re-read of the overlap starts (exclusive); unset: at the
  // overlap's start.
  std::optional<Cursor> overlap_resume;
  // The overlap, re-read in parts, moved past where the round had got to: the rows in
  // between left the window without being re-read this round (a record that becomes
  // queryable there late can be missed). Worth a warning.
  bool overlap_overtaken = false;
};

class Paginator {
 public:
  // `client` must not be null. `start` is the persisted cursor, or Cursor::StartAt(...)
  // on the first run. `clock` gives "now" for the settle horizon and missing-table
  // retries; `sleeper` and `random` drive the retry backoff.
  Paginator(std::shared_ptr<const QueryClient> client, PaginatorOptions options, Cursor start,
            common::Clock clock = common::SystemClock(), Sleeper sleeper = RealSleeper(),
            RetryPolicy::Random random = RetryPolicy::DefaultRandom())
      : client_(std::move(client)),
        options_(std::move(options)),
        clock_(clock),
        retry_(options_.retry, clock, std::move(sleeper), std::move(random)),
        cursor_(std::move(start)),
        floor_(cursor_),
        converter_(ConvertOptionsFor(options_)) {
    options_.min_page_rows = std::max<int64_t>(1, options_.min_page_rows);
    options_.max_page_rows = std::max(options_.min_page_rows, options_.max_page_rows);
    page_rows_ = std::clamp(options_.initial_page_rows, options_.min_page_rows,
                            options_.max_page_rows);
    if (options_.overlap < absl::ZeroDuration()) options_.overlap = absl::ZeroDuration();
    if (options_.reread_overlap_on_start && options_.overlap > absl::ZeroDuration() &&
        cursor_.ingestion_time != absl::InfinitePast()) {
      floor_ = Cursor::StartAt(cursor_.ingestion_time - options_.overlap);
    }
  }

  Paginator(const Paginator&) = delete;
  Paginator& operator=(const Paginator&) = delete;

  // The KQL and timespan the next page would send at `now`. Returns kInvalidArgument
  // when the cursor's values cannot be written into KQL. Not thread-safe.
  struct Plan {
    std::string kql;
    std::string timespan;
    int64_t take = 0;
    int64_t remembered_in_take = 0;
    bool nothing_to_read = false;  // the cursor is already at the settle horizon
    bool overlap_read = false;     // the lower bound lies before the cursor
    bool overlap_overtaken = false;  // see Page
    // The part of the overlap re-read: after `part_from`, up to and including
    // `part_to` (== the cursor: all of the rest of the overlap).
    Cursor part_from;
    Cursor part_to;
  };
  absl::StatusOr<Plan> PlanPage(absl::Time now) const {
    Plan plan;
    const absl::Time horizon = now - options_.settle;
    // Lower bound (exclusive position): rows after it are read.
    // floor_ is the cursor itself without an overlap; with one, the overlap's start
    // once rows are remembered (or after a start that re-reads it).
    Cursor lower = std::min(
        cursor_, std::max(floor_, Cursor::StartAt(cursor_.ingestion_time - options_.overlap)));
    const bool overlap_due = options_.overlap_every <= absl::ZeroDuration() ||
                             now - last_overlap_read_ >= options_.overlap_every ||
                             overlap_resume_.has_value();  // a round in parts goes on
    if (options_.overlap == absl::ZeroDuration() || !overlap_due) lower = cursor_;
    plan.overlap_read = lower < cursor_;
    const bool in_parts = plan.overlap_read && options_.has_item_id;
    if (in_parts && overlap_resume_ && *overlap_resume_ < cursor_) {
      if (lower < *overlap_resume_) {
        lower = *overlap_resume_;  // continue the re-read of the overlap where it stopped
      } else {
        plan.overlap_overtaken = true;  // the window's start passed the round
      }
    }
    if (!options_.has_item_id) {
      // Without a tie-breaker the bound is a time, inclusive.
      lower = Cursor::StartAt(lower.ingestion_time);
    }
    plan.part_from = lower;
    plan.part_to = cursor_;
    // Count the remembered rows the query can return: those after the lower bound as
    // the KQL writes it (After(): every row at its time when its _ItemId is not used),
    // up to the end of the part. A part ends after at most overlap_budget_ of them, at
    // a row whose position the KQL can write (AtOrBefore(): else at the last remembered
    // row of that time).
    int64_t remembered = 0;
    for (auto it = recent_.upper_bound(AsWritten(lower)); it != recent_.end(); ++it) {
      if (in_parts && remembered >= overlap_budget_) {
        const Cursor& end = *std::prev(it);
        if (Writable(end) || it->ingestion_time != end.ingestion_time) {
          plan.part_to = end;
          break;
        }
      }
      ++remembered;
    }
    plan.remembered_in_take = remembered;
    if (lower.ingestion_time > horizon) {
      plan.nothing_to_read = true;
      return plan;
    }
    std::string where_lower;
    if (lower.ingestion_time != absl::InfinitePast()) {
      where_lower = plan.part_to < cursor_
                        ? absl::StrCat("\n| where ((", After(lower), ") and (",
                                       AtOrBefore(plan.part_to), ")) or (", After(cursor_), ")")
                        : absl::StrCat("\n| where ", After(lower));
      plan.timespan = loganalytics_internal::FormatTimespan(
          lower.ingestion_time - options_.lookback, horizon + options_.future_margin);
    }
    plan.take = page_rows_ + plan.remembered_in_take;
    plan.kql = absl::StrCat(
        options_.base_query, "\n| extend _IngestionTime = ingestion_time()",
        options_.has_item_id ? ", _ItemId = _ItemId" : "", where_lower,
        "\n| where _IngestionTime <= ", loganalytics_internal::DatetimeLiteral(horizon),
        "\n| order by _IngestionTime asc", options_.has_item_id ? ", _ItemId asc" : "",
        "\n| take ", plan.take);
    return plan;
  }

  // Reads the next page after the committed cursor (see the top of this file).
  // Returns the Page (possibly empty, possibly incomplete), or:
  //   kNotFound          the base query's table is not in the workspace (payloads
  //                      kMissingTablePayload, kNextAttemptPayload; repeats before that
  //                      time also kAlreadyReportedPayload, without a query)
  //   kDataLoss          the answer stays truncated even at min_page_rows
  //   kInvalidArgument   the KQL is rejected, or the answer is not a valid answer
  //   kUnauthenticated, kPermissionDenied, and the retryable kUnavailable,
  //   kDeadlineExceeded, kResourceExhausted after the RetryPolicy gave up: as
  //   QueryClient::Query says.
  //   kCancelled         options.retry.stop was requested while a request was being
  //                      retried, or the client's limiter was stopped while the request
  //                      waited for a permit (nothing of the page is delivered)
  // Not thread-safe.
  absl::StatusOr<Page> NextPage() {
    const absl::Time now = clock_();
    if (now < next_attempt_) return missing_status_;

    absl::StatusOr<Plan> plan = PlanPage(now);
    if (!plan.ok()) return plan.status();
    Page page;
    page.base_cursor = cursor_;
    page.next_cursor = cursor_;
    if (plan->nothing_to_read) return page;
    page.kql = plan->kql;
    page.timespan = plan->timespan;
    page.take = plan->take;
    page.remembered_in_take = plan->remembered_in_take;
    page.overlap_read = plan->overlap_read;
    page.overlap_overtaken = plan->overlap_overtaken;
    page.read_at = now;

    ++pages_asked_;
    QueryOptions query_options;
    query_options.what = absl::StrCat("KQL query \"", options_.name, "\" page ", pages_asked_);
    absl::StatusOr<QueryResponse> response = retry_.Run([&] {
      ++page.attempts;
      return client_->Query(options_.workspace_id, page.kql, page.timespan, query_options);
    });
    if (!response.ok()) {
      const absl::Status& error = response.status();
      if (error.code() == absl::StatusCode::kOutOfRange) return Incomplete(std::move(page), error);
      if (std::optional<std::string> table = MissingTable(error);
          table && error.code() == absl::StatusCode::kInvalidArgument) {
        return MissingTableStatus(error, *table, now);
      }
      return error;
    }
    next_attempt_ = absl::InfinitePast();

    // Convert; keep the rows that are new.
    absl::Status row_error;
    Cursor last = cursor_;
    Cursor last_read = plan->part_from;  // the last row of the answer, new or not
    auto emit = [&](plugins::Log&& log, const RowMeta& meta) -> absl::Status {
      ++page.rows_read;
      absl::StatusOr<absl::Time> t = loganalytics_internal::ParseDatetime(meta.ingestion_time);
      if (!t.ok()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "row ", page.rows_read, " has no valid _IngestionTime (", t.status().message(),
            "); the base query must keep table rows so that ingestion_time() works"));
      }
      Cursor position{*t, std::string(meta.item_id.empty() ? absl::string_view(log.id())
                                                           : meta.item_id)};
      if (!options_.has_item_id) position.item_id = log.id();
      if (last_read < position) last_read = position;
      if (recent_keys_.contains(position.item_id)) {
        ++page.duplicates;
        return absl::OkStatus();
      }
      if (last < position) last = position;
      page.delivered.push_back(position);
      page.logs.push_back(std::move(log));
      return absl::OkStatus();
    };
    // Read the body in place (ConvertInPlace adds simdjson's padding to the string, and
    // reads a large answer's rows window by window without copying them).
    absl::StatusOr<ConvertSummary> summary = converter_.ConvertInPlace(&response->body, emit);
    if (!summary.ok()) {
      if (summary.status().code() == absl::StatusCode::kDataLoss) {
        return Incomplete(std::move(page), summary.status());
      }
      return absl::Status(summary.status().code(),
                          absl::StrCat(query_options.what, " on workspace ",
                                       options_.workspace_id,
                                       ": the answer cannot be read: ", summary.status().message()));
    }
    if (!summary->partial_error.ok()) return Incomplete(std::move(page), summary->partial_error);

    page.complete = true;
    page.more_available = static_cast<int64_t>(page.rows_read) >= page.take;
    page.next_cursor = options_.has_item_id ? last : Cursor::StartAt(last.ingestion_time);
    if (plan->overlap_read && options_.has_item_id) {
      // A full answer that ended inside the overlap continues from its last row; a part
      // read to its end continues after it; the last part starts the overlap over.
      if (page.more_available && plan->part_from < last_read && last_read < cursor_) {
        page.overlap_resume = last_read;
      } else if (plan->part_to < cursor_) {
        page.overlap_resume = plan->part_to;
        page.more_available = true;  // the rest of the overlap is still to be re-read
      }
    }
    if (++complete_in_a_row_ >= options_.grow_after) {
      page_rows_ = std::min(options_.max_page_rows, page_rows_ * 2);
      overlap_budget_ = std::min(MaxOverlapBudget(), overlap_budget_ * 2);
      complete_in_a_row_ = 0;
    }
    return page;
  }

  // Takes `page` as delivered: the cursor moves to page.next_cursor and its rows are
  // remembered for the overlap. Call it only after the sink confirmed page.logs.
  // An incomplete page changes nothing. Returns kFailedPrecondition when `page` was not
  // read from the current cursor (a stale page). Not thread-safe.
  absl::Status Commit(const Page& page) {
    if (page.base_cursor != cursor_) {
      return absl::FailedPreconditionError(absl::StrCat(
          "KQL query \"", options_.name, "\" on workspace ", options_.workspace_id,
          ": the page to commit was read from cursor ", page.base_cursor.ToJson(),
          " but the cursor is at ", cursor_.ToJson(), "; read the page again"));
    }
    if (!page.complete) return absl::OkStatus();
    for (const Cursor& key : page.delivered) {
      if (recent_keys_.insert(key.item_id).second) recent_.insert(key);
    }
    cursor_ = page.next_cursor;
    if (page.overlap_read) overlap_resume_ = page.overlap_resume;
    ++pages_committed_;
    if (page.overlap_read) last_overlap_read_ = page.read_at;
    Trim();
    return absl::OkStatus();
  }

  // The committed cursor. Not thread-safe.
  const Cursor& cursor() const { return cursor_; }
  // The page size the next page asks for (before adding remembered rows).
  int64_t page_rows() const { return page_rows_; }
  // Rows remembered for the overlap.
  size_t recent_size() const { return recent_.size(); }
  // At most this many remembered rows are re-read by one page (see the top).
  int64_t overlap_budget() const { return overlap_budget_; }
  // When a missing table is queried again; InfinitePast when not waiting.
  absl::Time next_attempt() const { return next_attempt_; }
  const PaginatorOptions& options() const { return options_; }

 private:
  int64_t MaxOverlapBudget() const {
    return static_cast<int64_t>(std::min<size_t>(options_.max_recent, INT32_MAX)) + 1;
  }

  // `c`'s _ItemId as a KQL string literal, when bounds can name it; else (a table
  // without _ItemId, an empty one, one QuoteString refuses) bounds fall back to c's time.
  absl::StatusOr<std::string> QuotedItemId(const Cursor& c) const {
    if (!options_.has_item_id || c.item_id.empty()) {
      return absl::FailedPreconditionError("no _ItemId to write");
    }
    return loganalytics_internal::QuoteString(c.item_id);
  }
  bool Writable(const Cursor& c) const { return QuotedItemId(c).ok(); }
  // The position After(c) really starts after.
  Cursor AsWritten(const Cursor& c) const {
    return Writable(c) ? c : Cursor::StartAt(c.ingestion_time);
  }

  // KQL for "the row's position is after `c`" (rows at c's time with a larger _ItemId;
  // every row at c's time when its _ItemId cannot be written: the rows delivered there
  // are remembered and dropped).
  std::string After(const Cursor& c) const {
    const std::string t = loganalytics_internal::DatetimeLiteral(c.ingestion_time);
    absl::StatusOr<std::string> id = QuotedItemId(c);
    if (!id.ok()) return absl::StrCat("_IngestionTime >= ", t);
    return absl::StrCat("_IngestionTime > ", t, " or (_IngestionTime == ", t,
                        " and _ItemId > ", *id, ")");
  }

  // KQL for "the row's position is `c` or before it" (every row at c's time when its
  // _ItemId cannot be written: more remembered rows, dropped).
  std::string AtOrBefore(const Cursor& c) const {
    const std::string t = loganalytics_internal::DatetimeLiteral(c.ingestion_time);
    absl::StatusOr<std::string> id = QuotedItemId(c);
    if (!id.ok()) return absl::StrCat("_IngestionTime <= ", t);
    return absl::StrCat("_IngestionTime < ", t, " or (_IngestionTime == ", t,
                        " and _ItemId <= ", *id, ")");
  }

  static ConvertOptions ConvertOptionsFor(const PaginatorOptions& options) {
    ConvertOptions convert = options.convert;
    if (convert.workspace_id.empty()) convert.workspace_id = options.workspace_id;
    convert.ingestion_time_column = "_IngestionTime";
    return convert;
  }

  absl::StatusOr<Page> Incomplete(Page page, const absl::Status& why) {
    complete_in_a_row_ = 0;
    const bool at_min = page_rows_ <= options_.min_page_rows;
    // At the smallest page, the overlap's remembered rows are what does not fit: re-read
    // it in parts. Already re-reading in parts, with the re-read most of the take: shrink
    // the parts along with the page.
    const bool parts_needed = at_min && page.overlap_read && options_.has_item_id &&
                              page.remembered_in_take > 1;
    const bool parts_too_big =
        overlap_budget_ < MaxOverlapBudget() && page.remembered_in_take > page_rows_;
    if (parts_needed || parts_too_big) {
      overlap_budget_ = std::max<int64_t>(1, page.remembered_in_take / 2);
    }
    if (at_min && !parts_needed) {
      return absl::DataLossError(absl::StrCat(
          "KQL query \"", options_.name, "\" page ", pages_asked_, " on workspace ",
          options_.workspace_id, " stays incomplete even at ", page_rows_,
          " rows per page", page.remembered_in_take > 0 ? absl::StrCat(
              " and ", page.remembered_in_take, " remembered row(s) of the overlap") : "",
          ": ", why.message(),
          "; the rows are too large for one answer: project fewer columns in the query"));
    }
    page_rows_ = std::max(options_.min_page_rows, page_rows_ / 2);
    page.logs.clear();
    page.delivered.clear();
    page.complete = false;
    page.more_available = true;
    page.next_cursor = cursor_;
    page.partial_error = why;
    return page;
  }

  absl::Status MissingTableStatus(const absl::Status& error, const std::string& table,
                                  absl::Time now) {
    next_attempt_ = now + options_.missing_table_retry;
    const std::string when = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", next_attempt_,
                                              absl::UTCTimeZone());
    absl::Status first(absl::StatusCode::kNotFound,
                       absl::StrCat(error.message(), "; not queried again before ", when));
    first.SetPayload(kMissingTablePayload, absl::Cord(table));
    first.SetPayload(kNextAttemptPayload, absl::Cord(when));
    missing_status_ = absl::Status(
        absl::StatusCode::kNotFound,
        absl::StrCat("KQL query \"", options_.name, "\" on workspace ",
                     options_.workspace_id, " skipped: table '", table,
                     "' was not found in this workspace (reported at ",
                     absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone()),
                     "); next attempt at ", when));
    missing_status_.SetPayload(kMissingTablePayload, absl::Cord(table));
    missing_status_.SetPayload(kNextAttemptPayload, absl::Cord(when));
    missing_status_.SetPayload(kAlreadyReportedPayload, absl::Cord("true"));
    return first;
  }

  // Forgets delivered rows that can no longer come back in a re-read: those older than
  // the overlap, then the oldest beyond max_recent. floor_ keeps the position up to
  // which every delivered row is either remembered or below every future lower bound.
  void Trim() {
    const absl::Time keep_from = cursor_.ingestion_time - options_.overlap;
    auto drop = [&](std::set<Cursor>::iterator it) {
      if (floor_ < *it) floor_ = options_.has_item_id ? *it : Cursor::StartAt(it->ingestion_time);
      recent_keys_.erase(it->item_id);
      return recent_.erase(it);
    };
    while (!recent_.empty() && recent_.begin()->ingestion_time < keep_from) drop(recent_.begin());
    while (recent_.size() > options_.max_recent) {
      if (options_.has_item_id) {
        drop(recent_.begin());
        continue;
      }
      // Whole ingestion times only, and never the cursor's own.
      const absl::Time oldest = recent_.begin()->ingestion_time;
      if (oldest >= cursor_.ingestion_time) break;
      while (!recent_.empty() && recent_.begin()->ingestion_time == oldest) drop(recent_.begin());
      if (!recent_.empty()) floor_ = Cursor::StartAt(recent_.begin()->ingestion_time);
    }
  }

  std::shared_ptr<const QueryClient> client_;
  PaginatorOptions options_;
  common::Clock clock_;
  RetryPolicy retry_;
  Cursor cursor_;
  // Every delivered row after floor_ is in recent_ (see Trim()).
  Cursor floor_;
  std::set<Cursor> recent_;
  absl::flat_hash_set<std::string> recent_keys_;
  LogConverter converter_;
  int64_t page_rows_ = 0;
  // Remembered rows one page may re-read; below MaxOverlapBudget() the overlap is
  // re-read in parts, from overlap_resume_ on.
  int64_t overlap_budget_ = MaxOverlapBudget();
  std::optional<Cursor> overlap_resume_;
  int complete_in_a_row_ = 0;
  int64_t pages_asked_ = 0;
  int64_t pages_committed_ = 0;
  absl::Time next_attempt_ = absl::InfinitePast();
  absl::Time last_overlap_read_ = absl::InfinitePast();
  absl::Status missing_status_;
};

}  // namespace loganalytics

#endif  // LOGANALYTICS_PAGINATOR_H_
