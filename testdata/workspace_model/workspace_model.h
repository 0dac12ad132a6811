// File: testdata/workspace_model/workspace_model.h
//
// A fake Log Analytics workspace (several, keyed by workspace id) that answers KQL the
// way the Query API does, for tests and simulations of incremental reading. It holds
// records {table, _ItemId, TimeGenerated, ingestion time, visible_at, payload columns};
// a record is queryable only once the model's clock reaches its visible_at (which may
// be later than its ingestion time), and its TimeGenerated may lie hours or days before
// its ingestion (late arrivals). It answers the KQL subset of kql_subset.h (README.md)
// over the request's timespan (which filters TimeGenerated, as Azure does), with
// Azure's JSON shapes: 200 {"tables":[…]}, 204 for a workspace without tables, error
// envelopes for 400 (SyntaxError with line/pos/token, SemanticError "Failed to resolve
// table or column expression named 'X'"), 404, 429 (Retry-After), 500 and 504, and
// PartialError (E_QUERY_RESULT_SET_TOO_LARGE) with a truncated prefix of the rows when
// the answer passes the row cap or a truncation fault is injected.
//
// Like Azure, underscore columns (_ItemId) are returned only when projected, e.g.
// `extend _ItemId = _ItemId`; TenantId is the workspace id.
//
// Use it directly (Answer), as an http::HttpTransport (model_transport.h), or as a
// FakeAzureServer query handler (fake_azure_handler.h).
//
// Example:
//   common::FakeClock clock;
//   workspace_model::WorkspaceModel model(clock.AsClock());
//   model.AddRecord("ws-1", {"SigninLogs", "id-1", t - absl::Hours(30), t, t,
//                            {workspace_model::Column::String("UserPrincipalName", "a@b")}});
//   model.InjectFaults(1, workspace_model::Fault::Throttle(3));
//   workspace_model::ModelReply r = model.Answer({"ws-1", "SigninLogs | take 5", ""});
//   // r.status == 429, then the next query gets the rows.
//
// Thread-safe: every method may be called from several threads.
#ifndef TESTDATA_WORKSPACE_MODEL_WORKSPACE_MODEL_H_
#define TESTDATA_WORKSPACE_MODEL_WORKSPACE_MODEL_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "loganalytics/internal/json_writer.h"
#include "testdata/workspace_model/kql_subset.h"

namespace workspace_model {

using Headers = std::vector<std::pair<std::string, std::string>>;

// A payload column value of a record.
struct Column {
  std::string name;
  std::string type;   // Log Analytics column type: string, long, real, bool, dynamic
  std::string text;   // the value of a string column
  int64_t number = 0; // the value of a long column
  std::string json;   // the cell as written in the answer

  static Column String(std::string name, std::string value) {
    Column c{std::move(name), "string", std::move(value), 0, ""};
    loganalytics_internal::AppendJsonStringUnchecked(c.text, &c.json);
    return c;
  }
  static Column Long(std::string name, int64_t value) {
    return Column{std::move(name), "long", "", value, absl::StrCat(value)};
  }
  // `json` is compact JSON; Azure sends dynamic cells as strings holding it.
  static Column Dynamic(std::string name, absl::string_view json) {
    Column c{std::move(name), "dynamic", "", 0, ""};
    loganalytics_internal::AppendJsonStringUnchecked(json, &c.json);
    return c;
  }
};

struct Record {
  std::string table;
  std::string item_id;
  absl::Time time_generated;
  absl::Time ingestion_time;
  // When the record becomes queryable; raised to ingestion_time when earlier.
  absl::Time visible_at = absl::InfinitePast();
  std::vector<Column> columns;
};

// A query as it reaches the workspace.
struct ModelRequest {
  std::string workspace_id;
  std::string query;
  std::string timespan;  // ISO 8601 "start/end" or a duration ("PT1H", "P2D"); may be empty
};

struct ModelReply {
  int status = 200;
  Headers headers;
  std::string body;
};

// An injected failure for one request.
struct Fault {
  enum class Kind { kReply, kTruncate };
  Kind kind = Kind::kReply;
  ModelReply reply;        // kReply: answered as is
  double keep = 0.5;       // kTruncate: fraction of the rows kept before the PartialError

  static Fault Throttle(int retry_after_seconds);
  static Fault ServerError(int status = 500);
  static Fault GatewayTimeout();
  static Fault Truncate(double keep = 0.5) {
    Fault f;
    f.kind = Kind::kTruncate;
    f.keep = keep;
    return f;
  }
};

// Faults drawn at random (a seeded generator, so runs repeat) for each request.
struct RandomFaults {
  double throttle = 0;         // 429 with Retry-After: retry_after_seconds
  double server_error = 0;     // 500 or 503
  double gateway_timeout = 0;  // 504
  double truncate = 0;         // PartialError with half the rows
  int retry_after_seconds = 1;
  uint64_t seed = 1;
};

struct ModelOptions {
  // Rows past this make a PartialError answer with the first row_cap rows (Azure:
  // 500,000).
  int64_t row_cap = 500000;
  RandomFaults random;
};

struct ModelStats {
  int64_t queries = 0;
  int64_t answered = 0;         // 200 / 204 without an injected fault
  int64_t throttled = 0;        // 429
  int64_t server_errors = 0;    // 500 / 503
  int64_t gateway_timeouts = 0; // 504
  int64_t truncated = 0;        // injected PartialError
  int64_t row_cap_hits = 0;     // PartialError from the row cap
  int64_t bad_requests = 0;     // 400 / 404
  int64_t rows_returned = 0;
};

namespace model_internal {

inline std::string FormatTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E7SZ", t, absl::UTCTimeZone());
}

inline std::string Quoted(absl::string_view text) {
  std::string out;
  loganalytics_internal::AppendJsonStringUnchecked(text, &out);
  return out;
}

inline std::string Envelope(absl::string_view code, absl::string_view message,
                            int64_t serial, absl::string_view inner = "") {
  std::string body = absl::StrCat(
      "{\"error\":{\"message\":", Quoted(message), ",\"code\":", Quoted(code),
      ",\"correlationId\":",
      Quoted(absl::StrFormat("00000000-0000-4000-8000-%012d", serial)));
  if (!inner.empty()) absl::StrAppend(&body, ",\"innererror\":", inner);
  absl::StrAppend(&body, "}}");
  return body;
}

// Reads an ISO 8601 duration of days/hours/minutes/seconds ("P2DT3H", "PT90S").
inline std::optional<absl::Duration> ParseIsoDuration(absl::string_view text) {
  if (!absl::ConsumePrefix(&text, "P") || text.empty()) return std::nullopt;
  absl::Duration total = absl::ZeroDuration();
  bool in_time = false;
  while (!text.empty()) {
    if (text[0] == 'T') {
      in_time = true;
      text.remove_prefix(1);
      continue;
    }
    size_t n = 0;
    while (n < text.size() && (absl::ascii_isdigit(static_cast<unsigned char>(text[n])) ||
                               text[n] == '.')) {
      ++n;
    }
    double value = 0;
    if (n == 0 || n >= text.size() || !absl::SimpleAtod(text.substr(0, n), &value)) {
      return std::nullopt;
    }
    const char unit = text[n];
    text.remove_prefix(n + 1);
    if (!in_time && unit == 'D') {
      total += absl::Hours(24 * value);
    } else if (!in_time && unit == 'W') {
      total += absl::Hours(24 * 7 * value);
    } else if (in_time && unit == 'H') {
      total += absl::Hours(value);
    } else if (in_time && unit == 'M') {
      total += absl::Minutes(value);
    } else if (in_time && unit == 'S') {
      total += absl::Seconds(value);
    } else {
      return std::nullopt;
    }
  }
  return total;
}

inline std::optional<absl::Time> ParseIsoTime(absl::string_view text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%dT%H:%M:%E*S%Ez", std::string(text), absl::UTCTimeZone(),
                       &t, &err)) {
    return std::nullopt;
  }
  return t;
}

// What a column name refers to for a row.
enum class Source { kTenantId, kTimeGenerated, kIngestionTime, kItemId, kType, kPayload };
enum class ValueType { kDatetime, kString, kLong, kOther };

struct Accessor {
  Source source = Source::kPayload;
  std::string payload;  // payload column name
  ValueType type = ValueType::kOther;
};

struct Compiled {
  Expr::Kind kind = Expr::Kind::kCompare;
  std::vector<Compiled> children;
  Accessor accessor;
  std::string op;
  Literal literal;
};

}  // namespace model_internal

inline Fault Fault::Throttle(int retry_after_seconds) {
  Fault f;
  f.reply.status = 429;
  f.reply.headers = {{"Retry-After", absl::StrCat(retry_after_seconds)}};
  f.reply.body = model_internal::Envelope(
      "ThrottledError",
      "Your request was throttled. Retry after the number of seconds in the "
      "Retry-After header.",
      429);
  return f;
}

inline Fault Fault::ServerError(int status) {
  Fault f;
  f.reply.status = status;
  f.reply.body = status == 503
                     ? model_internal::Envelope("ServiceUnavailableError",
                                                "The service is temporarily unavailable.",
                                                503)
                     : model_internal::Envelope("InternalServerError",
                                                "An internal error occurred.", status);
  return f;
}

inline Fault Fault::GatewayTimeout() {
  Fault f;
  f.reply.status = 504;
  f.reply.body = model_internal::Envelope(
      "GatewayTimeout", "The gateway did not receive a response in time. Retry the request.",
      504);
  return f;
}

class WorkspaceModel {
 public:
  explicit WorkspaceModel(common::Clock clock = common::SystemClock(),
                          ModelOptions options = {})
      : clock_(std::move(clock)), options_(options), random_(options.random.seed) {}

  WorkspaceModel(const WorkspaceModel&) = delete;
  WorkspaceModel& operator=(const WorkspaceModel&) = delete;

  // Makes an (empty) workspace known; queries to unknown ids get 404.
  void AddWorkspace(const std::string& workspace_id) {
    absl::MutexLock lock(&mu_);
    workspaces_[workspace_id];
  }

  // Makes `table` exist in `workspace_id` even without records (its schema: the
  // standard columns only, plus `columns`' names and types).
  void DeclareTable(const std::string& workspace_id, const std::string& table,
                    const std::vector<Column>& columns = {}) {
    absl::MutexLock lock(&mu_);
    Workspace& ws = workspaces_[workspace_id];
    for (const Column& c : columns) AddSchema(&ws, table, c);
    ws.schemas[table];
  }

  // Stores a record (creating the workspace and table as needed).
  void AddRecord(const std::string& workspace_id, Record record) {
    record.visible_at = std::max(record.visible_at, record.ingestion_time);
    absl::MutexLock lock(&mu_);
    Workspace& ws = workspaces_[workspace_id];
    ws.schemas[record.table];
    for (const Column& c : record.columns) AddSchema(&ws, record.table, c);
    ws.records.push_back(std::move(record));
    ws.sorted = false;
  }

  // Stores many records at once. When they all sort (ingestion time, _ItemId) at or
  // after the records already held, as records arriving over time do, the index stays
  // sorted and no query pays for a re-sort; otherwise the next query sorts once.
  void AddRecords(const std::string& workspace_id, std::vector<Record> records) {
    auto before = [](const Record& a, const Record& b) {
      if (a.ingestion_time != b.ingestion_time) return a.ingestion_time < b.ingestion_time;
      return a.item_id < b.item_id;
    };
    std::sort(records.begin(), records.end(), before);
    absl::MutexLock lock(&mu_);
    Workspace& ws = workspaces_[workspace_id];
    const bool in_order = ws.sorted && (records.empty() || ws.records.empty() ||
                                        !before(records.front(), ws.records.back()));
    for (Record& record : records) {
      record.visible_at = std::max(record.visible_at, record.ingestion_time);
      ws.schemas[record.table];
      for (const Column& c : record.columns) AddSchema(&ws, record.table, c);
      ws.records.push_back(std::move(record));
    }
    ws.sorted = in_order;
  }

  // Forgets the records of `workspace_id` ingested before `t` (a retention period, so a
  // long run keeps a bounded model). Returns how many were dropped.
  size_t DropIngestedBefore(const std::string& workspace_id, absl::Time t) {
    absl::MutexLock lock(&mu_);
    auto it = workspaces_.find(workspace_id);
    if (it == workspaces_.end()) return 0;
    Workspace& ws = it->second;
    SortIfNeeded(ws);
    auto end = std::lower_bound(ws.records.begin(), ws.records.end(), t,
                                [](const Record& r, absl::Time v) { return r.ingestion_time < v; });
    const size_t dropped = static_cast<size_t>(end - ws.records.begin());
    ws.records.erase(ws.records.begin(), end);
    return dropped;
  }

  // The next `count` queries (any workspace) get `fault`, before anything else.
  void InjectFaults(int count, const Fault& fault) {
    absl::MutexLock lock(&mu_);
    for (int i = 0; i < count; ++i) queued_.push_back(fault);
  }
  void SetRandomFaults(const RandomFaults& faults) {
    absl::MutexLock lock(&mu_);
    options_.random = faults;
    random_.seed(faults.seed);
  }
  void SetRowCap(int64_t rows) {
    absl::MutexLock lock(&mu_);
    options_.row_cap = rows;
  }

  ModelStats stats() const {
    absl::MutexLock lock(&mu_);
    return stats_;
  }
  size_t record_count(const std::string& workspace_id) const {
    absl::MutexLock lock(&mu_);
    auto it = workspaces_.find(workspace_id);
    return it == workspaces_.end() ? 0 : it->second.records.size();
  }

  // Answers one query as the Query API would (see the top of this file).
  ModelReply Answer(const ModelRequest& request) {
    absl::MutexLock lock(&mu_);
    ++stats_.queries;
    const int64_t serial = stats_.queries;

    std::optional<Fault> fault;
    if (!queued_.empty()) {
      fault = queued_.front();
      queued_.pop_front();
    } else {
      fault = DrawRandomFault();
    }
    if (fault && fault->kind == Fault::Kind::kReply) {
      if (fault->reply.status == 429) ++stats_.throttled;
      else if (fault->reply.status == 504) ++stats_.gateway_timeouts;
      else if (fault->reply.status >= 500) ++stats_.server_errors;
      return fault->reply;
    }

    auto ws_it = workspaces_.find(request.workspace_id);
    if (ws_it == workspaces_.end()) {
      ++stats_.bad_requests;
      return {404, {}, model_internal::Envelope("PathNotFoundError",
                                                "The requested path does not exist",
                                                serial)};
    }
    Workspace& ws = ws_it->second;

    absl::Time span_start = absl::InfinitePast();
    absl::Time span_end = absl::InfiniteFuture();
    if (!request.timespan.empty()) {
      if (!ParseTimespan(request.timespan, &span_start, &span_end)) {
        ++stats_.bad_requests;
        return {400, {}, model_internal::Envelope(
                             "BadArgumentError",
                             absl::StrCat("Invalid timespan '", request.timespan, "'"),
                             serial)};
      }
    }

    KqlSyntaxError syntax;
    absl::StatusOr<ParsedQuery> parsed = ParseKql(request.query, &syntax);
    if (!parsed.ok()) {
      ++stats_.bad_requests;
      std::string message = absl::StrCat("Query could not be parsed at '", syntax.token,
                                          "' on line [", syntax.line, ",", syntax.pos, "]");
      std::string inner = absl::StrCat(
          "{\"code\":\"SyntaxError\",\"message\":\"A recognition error occurred in the "
          "query.\",\"innererror\":{\"code\":\"SYN0002\",\"message\":",
          model_internal::Quoted(message), ",\"line\":", syntax.line, ",\"pos\":",
          syntax.pos, ",\"token\":", model_internal::Quoted(syntax.token), "}}");
      return {400, {}, model_internal::Envelope("BadArgumentError",
                                                "The request had some invalid properties",
                                                serial, inner)};
    }
    if (ws.schemas.empty()) {
      ++stats_.answered;
      return {204, {}, ""};
    }
    request_workspace_ = request.workspace_id;
    return Evaluate(ws, *parsed, span_start, span_end, fault, serial);
  }

 private:
  struct Workspace {
    std::vector<Record> records;
    bool sorted = true;
    // table -> payload columns (name, type) in first-seen order
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> schemas;
  };

  static void AddSchema(Workspace* ws, const std::string& table, const Column& c) {
    auto& schema = ws->schemas[table];
    for (const auto& [name, type] : schema) {
      if (name == c.name) return;
    }
    schema.emplace_back(c.name, c.type);
  }

  std::optional<Fault> DrawRandomFault() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const RandomFaults& r = options_.random;
    if (r.throttle + r.server_error + r.gateway_timeout + r.truncate <= 0) return std::nullopt;
    double draw = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
    if ((draw -= r.throttle) < 0) return Fault::Throttle(r.retry_after_seconds);
    if ((draw -= r.server_error) < 0) return Fault::ServerError(draw < -r.server_error / 2 ? 500 : 503);
    if ((draw -= r.gateway_timeout) < 0) return Fault::GatewayTimeout();
    if ((draw -= r.truncate) < 0) return Fault::Truncate(0.5);
    return std::nullopt;
  }

  absl::Time Now() const { return clock_(); }

  bool ParseTimespan(const std::string& text, absl::Time* start, absl::Time* end) const {
    std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
    if (parts.size() == 1) {
      std::optional<absl::Duration> d = model_internal::ParseIsoDuration(parts[0]);
      if (!d) return false;
      *end = Now();
      *start = *end - *d;
      return true;
    }
    if (parts.size() != 2) return false;
    std::optional<absl::Time> a = model_internal::ParseIsoTime(parts[0]);
    if (!a) return false;
    if (std::optional<absl::Time> b = model_internal::ParseIsoTime(parts[1])) {
      *start = *a;
      *end = *b;
      return true;
    }
    std::optional<absl::Duration> d = model_internal::ParseIsoDuration(parts[1]);
    if (!d) return false;
    *start = *a;
    *end = *a + *d;
    return true;
  }

  ModelReply SemanticError(absl::string_view message, int64_t serial)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ++stats_.bad_requests;
    std::string inner = absl::StrCat(
        "{\"code\":\"SemanticError\",\"message\":\"A semantic error occurred.\","
        "\"innererror\":{\"code\":\"SEM0100\",\"message\":",
        model_internal::Quoted(message), "}}");
    return {400, {}, model_internal::Envelope("BadArgumentError",
                                              "The request had some invalid properties",
                                              serial, inner)};
  }

  // Resolves `compare` nodes against the columns in scope; returns an error message.
  static std::optional<std::string> Compile(
      const Expr& expr, const std::map<std::string, model_internal::Accessor>& scope,
      model_internal::Compiled* out) {
    using model_internal::ValueType;
    out->kind = expr.kind;
    if (expr.kind != Expr::Kind::kCompare) {
      for (const auto& child : expr.children) {
        out->children.emplace_back();
        if (auto e = Compile(*child, scope, &out->children.back())) return e;
      }
      return std::nullopt;
    }
    auto it = scope.find(expr.column);
    if (it == scope.end()) {
      return absl::StrCat("'where' operator: Failed to resolve scalar expression named '",
                          expr.column, "'");
    }
    out->accessor = it->second;
    out->op = expr.op;
    out->literal = expr.literal;
    const ValueType type = it->second.type;
    const Literal::Type lit = expr.literal.type;
    const bool ok =
        (type == ValueType::kDatetime && lit == Literal::Type::kDatetime &&
         expr.op != "startswith" && expr.op != "=~") ||
        (type == ValueType::kString &&
         (lit == Literal::Type::kString || lit == Literal::Type::kList)) ||
        (type == ValueType::kLong && lit == Literal::Type::kLong && expr.op != "startswith" &&
         expr.op != "=~");
    if (!ok || (lit == Literal::Type::kList) != (expr.op == "in")) {
      return absl::StrCat("'where' operator: Cannot compare column '", expr.column,
                          "' with operator ", expr.op, " to this literal");
    }
    return std::nullopt;
  }

  // Lower and upper bounds a predicate puts on the ingestion time.
  static void Bounds(const model_internal::Compiled& c, absl::Time* lo, absl::Time* hi) {
    using model_internal::Source;
    *lo = absl::InfinitePast();
    *hi = absl::InfiniteFuture();
    switch (c.kind) {
      case Expr::Kind::kAnd:
        for (const auto& child : c.children) {
          absl::Time a, b;
          Bounds(child, &a, &b);
          *lo = std::max(*lo, a);
          *hi = std::min(*hi, b);
        }
        return;
      case Expr::Kind::kOr: {
        absl::Time l = absl::InfiniteFuture(), h = absl::InfinitePast();
        for (const auto& child : c.children) {
          absl::Time a, b;
          Bounds(child, &a, &b);
          l = std::min(l, a);
          h = std::max(h, b);
        }
        *lo = l;
        *hi = h;
        return;
      }
      case Expr::Kind::kNot:
        return;
      case Expr::Kind::kCompare:
        if (c.accessor.source != Source::kIngestionTime) return;
        if (c.op == ">" || c.op == ">=") *lo = c.literal.time;
        if (c.op == "<" || c.op == "<=") *hi = c.literal.time;
        if (c.op == "==") *lo = *hi = c.literal.time;
        return;
    }
  }

  static int CompareStrings(absl::string_view a, absl::string_view b) {
    int r = a.compare(b);
    return r < 0 ? -1 : r > 0 ? 1 : 0;
  }

  static bool Matches(const model_internal::Compiled& c, const Record& r,
                      const std::string& workspace_id) {
    using model_internal::Source;
    using model_internal::ValueType;
    switch (c.kind) {
      case Expr::Kind::kAnd:
        for (const auto& child : c.children) {
          if (!Matches(child, r, workspace_id)) return false;
        }
        return true;
      case Expr::Kind::kOr:
        for (const auto& child : c.children) {
          if (Matches(child, r, workspace_id)) return true;
        }
        return false;
      case Expr::Kind::kNot:
        return !Matches(c.children[0], r, workspace_id);
      case Expr::Kind::kCompare:
        break;
    }
    int cmp = 0;
    const std::string& op = c.op;
    if (c.accessor.type == ValueType::kDatetime) {
      const absl::Time v = c.accessor.source == Source::kIngestionTime ? r.ingestion_time
                                                                        : r.time_generated;
      cmp = v < c.literal.time ? -1 : v > c.literal.time ? 1 : 0;
    } else if (c.accessor.type == ValueType::kLong) {
      const Column* col = FindColumn(r, c.accessor.payload);
      if (col == nullptr) return false;  // null compares false
      cmp = col->number < c.literal.number ? -1 : col->number > c.literal.number ? 1 : 0;
    } else {
      absl::string_view v;
      switch (c.accessor.source) {
        case Source::kItemId: v = r.item_id; break;
        case Source::kType: v = r.table; break;
        case Source::kTenantId: v = workspace_id; break;
        default: {
          const Column* col = FindColumn(r, c.accessor.payload);
          if (col == nullptr) return op == "!=";
          v = col->text;
        }
      }
      if (op == "in") {
        for (const std::string& s : c.literal.list) {
          if (v == s) return true;
        }
        return false;
      }
      if (op == "=~") return absl::EqualsIgnoreCase(v, c.literal.text);
      if (op == "startswith") return absl::StartsWithIgnoreCase(v, c.literal.text);
      cmp = CompareStrings(v, c.literal.text);
    }
    if (op == "==") return cmp == 0;
    if (op == "!=") return cmp != 0;
    if (op == "<") return cmp < 0;
    if (op == "<=") return cmp <= 0;
    if (op == ">") return cmp > 0;
    if (op == ">=") return cmp >= 0;
    return false;
  }

  static const Column* FindColumn(const Record& r, const std::string& name) {
    for (const Column& c : r.columns) {
      if (c.name == name) return &c;
    }
    return nullptr;
  }

  ModelReply Evaluate(Workspace& ws, const ParsedQuery& query, absl::Time span_start,
                      absl::Time span_end, const std::optional<Fault>& fault,
                      int64_t serial) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    using model_internal::Accessor;
    using model_internal::Source;
    using model_internal::ValueType;

    // Tables of the source.
    std::vector<std::string> tables;
    if (query.union_all) {
      for (const auto& [name, schema] : ws.schemas) tables.push_back(name);
    } else {
      for (const std::string& t : query.tables) {
        if (ws.schemas.count(t)) {
          tables.push_back(t);
        } else if (!query.fuzzy) {
          return SemanticError(
              absl::StrCat(query.tables.size() > 1 ? "'union' operator: " : "",
                           "Failed to resolve table or column expression named '", t, "'"),
              serial);
        }
      }
    }
    const std::set<std::string> table_set(tables.begin(), tables.end());

    // Columns in scope: the standard ones, then the tables' payload columns.
    std::map<std::string, Accessor> scope = {
        {"TenantId", {Source::kTenantId, "", ValueType::kString}},
        {"TimeGenerated", {Source::kTimeGenerated, "", ValueType::kDatetime}},
        {"Type", {Source::kType, "", ValueType::kString}},
        {"_ItemId", {Source::kItemId, "", ValueType::kString}},
    };
    std::vector<std::pair<std::string, std::string>> payload;  // output payload columns
    for (const std::string& t : tables) {
      for (const auto& [name, type] : ws.schemas[t]) {
        if (scope.count(name)) continue;
        scope[name] = Accessor{Source::kPayload, name,
                               type == "string" ? ValueType::kString
                               : type == "long" ? ValueType::kLong
                                                : ValueType::kOther};
        payload.emplace_back(name, type);
      }
    }
    // Extended columns, in output order after the source's columns.
    std::vector<std::pair<std::string, Accessor>> extended;

    // Compile the pipeline.
    struct Step {
      Operator::Kind kind;
      model_internal::Compiled predicate;
      std::vector<std::pair<Accessor, bool>> order;
      int64_t take = 0;
    };
    std::vector<Step> steps;
    for (const Operator& op : query.operators) {
      Step step;
      step.kind = op.kind;
      switch (op.kind) {
        case Operator::Kind::kWhere:
          if (auto error = Compile(*op.predicate, scope, &step.predicate)) {
            return SemanticError(*error, serial);
          }
          break;
        case Operator::Kind::kExtend:
          for (const auto& [name, source] : op.assigns) {
            Accessor accessor;
            if (source == "ingestion_time()") {
              accessor = {Source::kIngestionTime, "", ValueType::kDatetime};
            } else {
              auto it = scope.find(source);
              if (it == scope.end()) {
                return SemanticError(
                    absl::StrCat("'extend' operator: Failed to resolve scalar expression "
                                 "named '", source, "'"),
                    serial);
              }
              accessor = it->second;
            }
            scope[name] = accessor;
            bool visible = false;
            for (const auto& p : payload) visible |= p.first == name;
            visible |= name == "TenantId" || name == "TimeGenerated" || name == "Type";
            if (!visible) {
              extended.erase(std::remove_if(extended.begin(), extended.end(),
                                            [&](const auto& e) { return e.first == name; }),
                             extended.end());
              extended.emplace_back(name, accessor);
            }
          }
          break;
        case Operator::Kind::kOrderBy:
          for (const auto& [name, ascending] : op.order) {
            auto it = scope.find(name);
            if (it == scope.end()) {
              return SemanticError(
                  absl::StrCat("'order' operator: Failed to resolve scalar expression "
                               "named '", name, "'"),
                  serial);
            }
            step.order.emplace_back(it->second, ascending);
          }
          break;
        case Operator::Kind::kTake:
          step.take = op.take;
          break;
      }
      steps.push_back(std::move(step));
    }

    SortIfNeeded(ws);

    // Fast path: wheres/extends, then one order by (ingestion asc[, _ItemId asc]) —
    // the index order — then take: scan the bounded index range and stop early.
    absl::Time lo = absl::InfinitePast(), hi = absl::InfiniteFuture();
    size_t first_order = steps.size();
    for (size_t i = 0; i < steps.size(); ++i) {
      if (steps[i].kind == Operator::Kind::kWhere && first_order == steps.size()) {
        absl::Time a, b;
        Bounds(steps[i].predicate, &a, &b);
        lo = std::max(lo, a);
        hi = std::min(hi, b);
      }
      if ((steps[i].kind == Operator::Kind::kOrderBy ||
           steps[i].kind == Operator::Kind::kTake) &&
          first_order == steps.size()) {
        first_order = i;
      }
    }
    bool index_order = false;
    int64_t early_take = -1;
    if (first_order < steps.size() && steps[first_order].kind == Operator::Kind::kOrderBy) {
      const auto& order = steps[first_order].order;
      index_order = !order.empty() && order[0].first.source == Source::kIngestionTime &&
                    order[0].second &&
                    (order.size() == 1 ||
                     (order.size() == 2 && order[1].first.source == Source::kItemId &&
                      order[1].second));
      if (index_order && first_order + 2 == steps.size() &&
          steps[first_order + 1].kind == Operator::Kind::kTake) {
        early_take = steps[first_order + 1].take;
      }
    }

    const absl::Time now = Now();
    std::vector<const Record*> rows;
    auto begin = std::lower_bound(ws.records.begin(), ws.records.end(), lo,
                                  [](const Record& r, absl::Time t) {
                                    return r.ingestion_time < t;
                                  });
    for (auto it = begin; it != ws.records.end() && it->ingestion_time <= hi; ++it) {
      const Record& r = *it;
      if (r.visible_at > now) continue;
      if (r.time_generated < span_start || r.time_generated >= span_end) continue;
      if (!table_set.count(r.table)) continue;
      bool keep = true;
      for (size_t i = 0; i < first_order && keep; ++i) {
        if (steps[i].kind == Operator::Kind::kWhere) {
          keep = Matches(steps[i].predicate, r, request_workspace_);
        }
      }
      if (!keep) continue;
      rows.push_back(&r);
      if (early_take >= 0 && static_cast<int64_t>(rows.size()) >= early_take) break;
    }
    // The rest of the pipeline, in order.
    for (size_t i = first_order; i < steps.size(); ++i) {
      const Step& step = steps[i];
      if (step.kind == Operator::Kind::kWhere) {
        rows.erase(std::remove_if(rows.begin(), rows.end(),
                                  [&](const Record* r) {
                                    return !Matches(step.predicate, *r, request_workspace_);
                                  }),
                   rows.end());
      } else if (step.kind == Operator::Kind::kOrderBy) {
        if (!(i == first_order && index_order)) {
          std::stable_sort(rows.begin(), rows.end(), [&](const Record* a, const Record* b) {
            for (const auto& [accessor, ascending] : step.order) {
              int c = CompareFor(accessor, *a, *b);
              if (c != 0) return ascending ? c < 0 : c > 0;
            }
            return false;
          });
        }
      } else if (step.kind == Operator::Kind::kTake) {
        if (static_cast<int64_t>(rows.size()) > step.take) rows.resize(step.take);
      }
    }

    // Row cap and truncation faults: a prefix of the rows and a PartialError.
    std::string partial;
    if (static_cast<int64_t>(rows.size()) > options_.row_cap) {
      rows.resize(options_.row_cap);
      ++stats_.row_cap_hits;
      partial = absl::StrCat(
          "Query result set has exceeded the internal record count limit ",
          options_.row_cap, " (E_QUERY_RESULT_SET_TOO_LARGE; see "
          "https://aka.ms/kustoquerylimits)");
    } else if (fault && fault->kind == Fault::Kind::kTruncate) {
      rows.resize(static_cast<size_t>(rows.size() * std::clamp(fault->keep, 0.0, 1.0)));
      ++stats_.truncated;
      partial = "Query result set has exceeded the internal data size limit 67108864 "
                "(E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)";
    } else {
      ++stats_.answered;
    }
    stats_.rows_returned += rows.size();
    return {200, {}, WriteAnswer(rows, payload, extended, partial)};
  }

  static int CompareFor(const model_internal::Accessor& a, const Record& x, const Record& y) {
    using model_internal::Source;
    switch (a.source) {
      case Source::kIngestionTime:
        return x.ingestion_time < y.ingestion_time ? -1 : x.ingestion_time > y.ingestion_time;
      case Source::kTimeGenerated:
        return x.time_generated < y.time_generated ? -1 : x.time_generated > y.time_generated;
      case Source::kItemId: return CompareStrings(x.item_id, y.item_id);
      case Source::kType: return CompareStrings(x.table, y.table);
      case Source::kTenantId: return 0;
      case Source::kPayload: {
        const Column* cx = FindColumn(x, a.payload);
        const Column* cy = FindColumn(y, a.payload);
        if (cx == nullptr || cy == nullptr) return (cx != nullptr) - (cy != nullptr);
        if (cx->type == "long") return cx->number < cy->number ? -1 : cx->number > cy->number;
        return CompareStrings(cx->json, cy->json);
      }
    }
    return 0;
  }

  static void SortIfNeeded(Workspace& ws) {
    if (ws.sorted) return;
    std::stable_sort(ws.records.begin(), ws.records.end(), [](const Record& a, const Record& b) {
      if (a.ingestion_time != b.ingestion_time) return a.ingestion_time < b.ingestion_time;
      return a.item_id < b.item_id;
    });
    ws.sorted = true;
  }

  std::string WriteAnswer(const std::vector<const Record*>& rows,
                          const std::vector<std::pair<std::string, std::string>>& payload,
                          const std::vector<std::pair<std::string, model_internal::Accessor>>&
                              extended,
                          const std::string& partial) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    using model_internal::Quoted;
    using model_internal::Source;
    std::string out = "{\"tables\":[{\"name\":\"PrimaryResult\",\"columns\":[";
    absl::StrAppend(&out, "{\"name\":\"TenantId\",\"type\":\"string\"},"
                          "{\"name\":\"TimeGenerated\",\"type\":\"datetime\"}");
    for (const auto& [name, type] : payload) {
      absl::StrAppend(&out, ",{\"name\":", Quoted(name), ",\"type\":", Quoted(type), "}");
    }
    absl::StrAppend(&out, ",{\"name\":\"Type\",\"type\":\"string\"}");
    for (const auto& [name, accessor] : extended) {
      const char* type = accessor.type == model_internal::ValueType::kDatetime ? "datetime"
                         : accessor.type == model_internal::ValueType::kLong   ? "long"
                                                                                : "string";
      absl::StrAppend(&out, ",{\"name\":", Quoted(name), ",\"type\":\"", type, "\"}");
    }
    out.append("],\"rows\":[");
    const std::string tenant = Quoted(request_workspace_);
    bool first_row = true;
    for (const Record* r : rows) {
      if (!first_row) out.push_back(',');
      first_row = false;
      absl::StrAppend(&out, "[", tenant, ",\"", model_internal::FormatTime(r->time_generated),
                      "\"");
      for (const auto& [name, type] : payload) {
        const Column* c = FindColumn(*r, name);
        absl::StrAppend(&out, ",", c == nullptr ? "null" : c->json);
      }
      absl::StrAppend(&out, ",", Quoted(r->table));
      for (const auto& [name, accessor] : extended) {
        out.push_back(',');
        switch (accessor.source) {
          case Source::kIngestionTime:
            absl::StrAppend(&out, "\"", model_internal::FormatTime(r->ingestion_time), "\"");
            break;
          case Source::kTimeGenerated:
            absl::StrAppend(&out, "\"", model_internal::FormatTime(r->time_generated), "\"");
            break;
          case Source::kItemId: out.append(Quoted(r->item_id)); break;
          case Source::kType: out.append(Quoted(r->table)); break;
          case Source::kTenantId: out.append(tenant); break;
          case Source::kPayload: {
            const Column* c = FindColumn(*r, accessor.payload);
            out.append(c == nullptr ? "null" : c->json);
          }
        }
      }
      out.push_back(']');
    }
    out.append("]}]");
    if (!partial.empty()) {
      absl::StrAppend(
          &out,
          ",\"error\":{\"code\":\"PartialError\",\"message\":\"There were some errors when "
          "processing your query.\",\"details\":[{\"code\":\"EngineError\",\"message\":"
          "\"Something went wrong processing your query on the server.\",\"innererror\":"
          "{\"code\":\"-2133196797\",\"message\":",
          Quoted(partial), ",\"severity\":2,\"severityName\":\"Error\"}}]}");
    }
    out.push_back('}');
    return out;
  }

  const common::Clock clock_;
  mutable absl::Mutex mu_;
  ModelOptions options_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 random_ ABSL_GUARDED_BY(mu_);
  std::deque<Fault> queued_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Workspace> workspaces_ ABSL_GUARDED_BY(mu_);
  ModelStats stats_ ABSL_GUARDED_BY(mu_);
  // The workspace of the query being answered (TenantId column).
  std::string request_workspace_ ABSL_GUARDED_BY(mu_);
};

}  // namespace workspace_model

#endif  // TESTDATA_WORKSPACE_MODEL_WORKSPACE_MODEL_H_
