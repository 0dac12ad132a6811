// File: loganalytics/convert/log_converter.h
//
// Turns a Log Analytics query answer (the HTTP body as received) into UTMStack
// plugins::Log events, one per row, without building a DOM of the answer: the body
// is read once with simdjson's on-demand API and each row is handed to an emitter as
// soon as it is converted, so memory stays bounded by the answer itself (see
// "Memory" below) whatever the number of rows.
//
// For each row, Log.raw is a JSON object mapping column name to value:
//   - int / long / real numbers are copied as written (64-bit integers stay exact); a
//     number no 64-bit integer or double can hold (e.g. -9246744073709551616, 1e400)
//     is kept exactly as a string, since strict parsers reject it; "NaN", "Infinity"
//     and "-Infinity", which Azure sends as strings, stay strings; a decimal stays
//     exact as a string (a number token is quoted).
//   - dynamic cells (strings whose content is JSON) become nested JSON, minified; a
//     dynamic string that is not valid JSON stays a string, and so does one that strict
//     parsers reject (an integer beyond 64 bits, a lone surrogate escape, nesting
//     deeper than 1000); a dynamic "null" is left out.
//   - datetime, timespan, guid and string values are JSON strings, bool is true/false;
//     string escapes are checked and kept, a `\u` escape of a lone UTF-16 surrogate
//     is written as \ufffd.
//   - null cells are left out; empty strings are left out unless keep_empty_strings.
//   - the ingestion_time_column (the paginator's ingestion_time() projection) is left
//     out and reported in RowMeta instead.
// Log.timestamp is TimeGenerated in RFC 3339 UTC, up to 9 fractional digits with
// trailing zeros dropped ("2024-01-01T00:00:00.1234567Z"). When TimeGenerated is
// absent, null or not a date-time, the ingestion time column is used and raw gets
// "_timestampSource":"ingestion_time"; when that is missing too, the clock's now is
// used and raw gets "_timestampSource":"now".
// Log.id is a UUID-shaped string (version 8) from a stable 128-bit hash
// (MurmurHash3_x64_128, fixed across processes and versions) of (workspace_id, table,
// _ItemId), or of (workspace_id, table, the row's raw JSON before _timestampSource)
// when the row has no _ItemId, so a record read twice gets the same id. `table` is the
// row's Type column, else the answer table's name.
//
// Padding: simdjson reads up to simdjson::SIMDJSON_PADDING (64) bytes past the end of
// the input.
// Convert()/ConvertAnswer() take any string_view and copy it into a padded buffer
// first (one memcpy, and one more answer-sized buffer); ConvertPadded() /
// ConvertPaddedAnswer() read in place and need the padding to exist, e.g. a
// std::string with spare capacity:
//   body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
//   ConvertPaddedAnswer(simdjson::padded_string_view(body), options, emit);
// The answer's members may come in any order, and "error" before or after "tables";
// inside a table, "columns" must come before "rows" (as Log Analytics sends them).
// An empty or all-whitespace body (HTTP 204) gives an OK, empty ConvertSummary: the
// caller knows from the HTTP status whether an empty body is expected.
//
// Memory: simdjson keeps a structural index of 4 bytes per token of what it reads
// (about 0.1-0.3x the text for SigninLogs-like answers, about 1.2x for wide rows of
// mostly nulls, where a token comes every 4-5 bytes). An answer larger than two
// windows (kDefaultWindowBytes, 1 MiB) has its rows read a window at a time (the index
// of about a window; ConvertPadded, which may not write to the body, also copies the
// window), and the rest of the answer as a skeleton without the rows, so the
// converter adds about two windows plus the skeleton to the body whatever its size.
// Smaller answers, and answers with more than one table or another shape the windows
// do not fit, are read whole. The converter also keeps one row's worth of buffers; a
// reused LogConverter keeps all these between answers. Logs are never accumulated:
// each goes to the emitter as soon as it is made.
//
// Errors: when a conversion fails, the Logs emitted before the failure are to be
// dropped with it (the paginator drops the page). Which rows were emitted first
// depends on how the answer was read: a whole answer with bytes that are not UTF-8
// fails before any row, a windowed one after the rows of the windows before them.
//
// Only simdjson's error-code API is used: no exception is thrown or expected.
//
// Example:
//   loganalytics::ConvertOptions options;
//   options.workspace_id = "b3c1...";
//   options.data_source = "production";
//   absl::StatusOr<loganalytics::ConvertSummary> summary = loganalytics::ConvertAnswer(
//       body, options, [&](plugins::Log&& log, const loganalytics::RowMeta& meta) {
//         cursor.Observe(meta.ingestion_time, meta.item_id);
//         return sink.Send(std::move(log));
//       });
//   if (!summary.ok()) return summary.status();        // not a valid answer
//   if (!summary->partial_error.ok()) { /* truncated page: shrink and retry */ }
//
// Status codes: Convert / ConvertAnswer return kInvalidArgument (not a valid answer; the
// message says what and where), kDataLoss (the body ends early), or whatever the emitter
// returned; ConvertSummary::partial_error carries the answer's own error (kDataLoss for a
// truncated result). ConvertAnswerToJsonLines adds kUnavailable (the stream failed).
//
// Thread-safety: a LogConverter is not thread-safe (one per thread); ConvertAnswer,
// ConvertPaddedAnswer and ConvertAnswerToJsonLines share nothing between calls and are
// thread-safe.
#ifndef LOGANALYTICS_CONVERT_LOG_CONVERTER_H_
#define LOGANALYTICS_CONVERT_LOG_CONVERTER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/clock.h"
#include "google/protobuf/util/json_util.h"
#include "loganalytics/convert/internal/hash128.h"
#include "loganalytics/convert/internal/json_text.h"
#include "loganalytics/convert/internal/timestamp.h"
#include "proto/plugins.pb.h"
#include "simdjson.h"

namespace loganalytics {

// How rows become Logs. Copied by the converter; safe to share between threads.
struct ConvertOptions {
  std::string workspace_id;                 // part of every Log.id
  std::string data_type = "azure";          // Log.dataType
  std::string data_source;                  // Log.dataSource (group / workspace name)
  std::string tenant_id = "ce66672c-e36d-4761-a8c8-90058fee1a24";  // Log.tenantId
  bool keep_empty_strings = false;
  // A column the paginator projects (ingestion_time()); reported in RowMeta and left out of raw.
  std::string ingestion_time_column = "_IngestionTime";
  common::Clock clock = common::SystemClock();   // "now" fallback for timestamp
};

// What the paginator needs to know about a row besides its Log. The views point into
// the body or the converter's buffers and are valid only during the emit call.
struct RowMeta {
  absl::string_view table;           // value of the Type column, else the answer table's name
  absl::string_view item_id;         // _ItemId, empty when the row has none
  absl::string_view ingestion_time;  // the ingestion_time_column value, empty when absent
};

struct ConvertSummary {
  size_t tables = 0;
  size_t rows = 0;
  // OK, or the answer's top-level "error" (e.g. PartialError / E_QUERY_RESULT_SET_TOO_LARGE)
  // as a non-OK Status (kDataLoss for a truncated result); rows before it were still emitted.
  absl::Status partial_error;
};

// Receives each converted row. It may move from `log`. A non-OK Status stops the
// conversion and is returned by ConvertAnswer unchanged.
using LogEmitter = std::function<absl::Status(plugins::Log&& log, const RowMeta& meta)>;

// The member added to raw when Log.timestamp does not come from TimeGenerated; its
// value is "ingestion_time" or "now".
inline constexpr absl::string_view kTimestampSourceField = "_timestampSource";

// A reusable converter: keeps simdjson's parser and its row buffers between answers,
// which saves re-allocating (and page-faulting) them for every page.
// Not thread-safe: use one LogConverter per thread.
class LogConverter {
 public:
  explicit LogConverter(ConvertOptions options = ConvertOptions())
      : options_(std::move(options)) {}
  LogConverter(const LogConverter&) = delete;
  LogConverter& operator=(const LogConverter&) = delete;

  const ConvertOptions& options() const { return options_; }

  // Converts `body` (copied into a padded buffer kept by the converter) row by row,
  // calling `emit` once per row in answer order.
  // Returns the summary (partial_error carries the answer's own "error" member), or:
  //   kInvalidArgument  the body is not a valid answer (message: what and where);
  //   kDataLoss         the body ends early (truncated);
  //   whatever `emit` returned, when it was not OK.
  // Rows before the point of failure have already been emitted.
  absl::StatusOr<ConvertSummary> Convert(absl::string_view body, const LogEmitter& emit) {
    if (IsBlank(body)) return ConvertSummary();
    if (copy_capacity_ < body.size() + simdjson::SIMDJSON_PADDING) {
      copy_capacity_ = body.size() + simdjson::SIMDJSON_PADDING;
      copy_.reset(new char[copy_capacity_]);
    }
    std::memcpy(copy_.get(), body.data(), body.size());
    std::memset(copy_.get() + body.size(), 0, simdjson::SIMDJSON_PADDING);
    return ConvertBody(simdjson::padded_string_view(copy_.get(), body.size(), copy_capacity_),
                       copy_.get(), emit);
  }

  // Same as Convert() without the copy, for a body the caller owns: adds the padding
  // simdjson needs (body->reserve, which may move the text), and while a window of a
  // large answer is read, puts '[' and ']' in place of the commas around it instead of
  // copying it (see the windowed reading below); `*body` is as it was when this returns.
  absl::StatusOr<ConvertSummary> ConvertInPlace(std::string* body, const LogEmitter& emit) {
    body->reserve(body->size() + simdjson::SIMDJSON_PADDING);
    return ConvertBody(simdjson::padded_string_view(*body), body->data(), emit);
  }

  // Same as Convert() without the copy: `body` must have at least
  // simdjson::SIMDJSON_PADDING readable bytes after its end (body.padding() >=
  // SIMDJSON_PADDING); with less it falls back to Convert(), which copies. The bytes of
  // `body` are not modified.
  absl::StatusOr<ConvertSummary> ConvertPadded(simdjson::padded_string_view body,
                                               const LogEmitter& emit) {
    if (body.padding() < simdjson::SIMDJSON_PADDING) {
      return Convert(absl::string_view(body.data(), body.size()), emit);
    }
    return ConvertBody(body, nullptr, emit);
  }

  // Rows are read in windows of about `bytes` when the answer is larger than two
  // windows (default kDefaultWindowBytes). Meant for tests; any value gives the same Logs.
  void SetWindowBytesForTesting(size_t bytes) { window_bytes_ = std::max<size_t>(bytes, 1); }
  // How the last answer was read: the number of windows, and whether it was then read
  // again whole (the windows did not fit it, or it failed).
  size_t WindowsReadForTesting() const { return windows_read_; }
  bool ReadWholeAfterWindowsForTesting() const { return read_whole_after_windows_; }

  static constexpr size_t kDefaultWindowBytes = size_t{1} << 20;

 private:
  // Converts `text`, which is the body itself or, in windowed mode, its skeleton.
  absl::StatusOr<ConvertSummary> ConvertDocument(simdjson::padded_string_view text,
                                                 const LogEmitter& emit) {
    ConvertSummary summary;
    simdjson::ondemand::document doc;
    simdjson::error_code error = parser_.iterate(text).get(doc);
    if (error) return SimdjsonError(error, "reading the answer", nullptr);
    doc_ = &doc;
    doc_begin_ = text.data();
    doc_end_ = text.data() + text.length();
    simdjson::ondemand::object top;
    error = doc.get_object().get(top);
    if (error == simdjson::INCORRECT_TYPE) {
      return Invalid("the answer is not a JSON object (it should start with '{')");
    }
    if (error == simdjson::INCOMPLETE_ARRAY_OR_OBJECT) {
      return absl::DataLossError(absl::StrCat(
          "Log Analytics answer: the body (", body_.size(),
          " bytes) does not end with the '}' that closes the answer: it was cut short "
          "or has bytes after the answer; fetch the page again"));
    }
    if (error) return SimdjsonError(error, "reading the answer", &doc);

    bool saw_tables = false;
    bool saw_error = false;
    std::string error_text;
    for (auto member_result : top) {
      simdjson::ondemand::field member;
      if ((error = std::move(member_result).get(member))) {
        return SimdjsonError(error, "reading the answer's members", &doc);
      }
      std::string_view key;
      if ((error = member.unescaped_key().get(key))) {
        return SimdjsonError(error, "reading a member name of the answer", &doc);
      }
      if (key == "tables") {
        saw_tables = true;
        simdjson::ondemand::array tables;
        if ((error = member.value().get_array().get(tables))) {
          if (error == simdjson::INCORRECT_TYPE) {
            return Invalid("the answer's \"tables\" member is not an array");
          }
          return SimdjsonError(error, "reading \"tables\"", &doc);
        }
        for (auto table_result : tables) {
          simdjson::ondemand::object table;
          if ((error = table_result.get_object().get(table))) {
            if (error == simdjson::INCORRECT_TYPE) {
              return Invalid(absl::StrCat("table ", summary.tables, " is not a JSON object"));
            }
            return SimdjsonError(error, absl::StrCat("reading table ", summary.tables), &doc);
          }
          absl::Status status = ConvertTable(table, summary, emit);
          if (!status.ok()) return status;
          ++summary.tables;
        }
      } else if (key == "error") {
        saw_error = true;
        simdjson::ondemand::value value = member.value();
        absl::Status status = ReadAzureError(value, 0, &error_text);
        if (!status.ok()) return status;
      }
      // Other members ("statistics", "render") are skipped.
    }
    const char* rest = nullptr;
    if (doc.current_location().get(rest) == simdjson::SUCCESS && rest != nullptr) {
      return Invalid(absl::StrCat("unexpected bytes after the answer's closing '}' at byte ",
                                  OffsetOf(rest)));
    }
    doc_ = nullptr;
    if (!saw_tables && !saw_error) {
      return Invalid("the answer has neither a \"tables\" nor an \"error\" member");
    }
    if (saw_error) {
      summary.partial_error = absl::DataLossError(absl::StrCat(
          "Log Analytics returned an incomplete answer (", summary.rows, " rows in ",
          summary.tables, " tables came before or with the error): ", error_text,
          ". The rows are a truncated prefix: treat the page as incomplete, then "
          "shrink the page or narrow the query"));
    }
    return summary;
  }

  // ConvertPadded(), with `writable` the body's own bytes when they may be rewritten
  // while a window is read (restored before returning), or nullptr.
  absl::StatusOr<ConvertSummary> ConvertBody(simdjson::padded_string_view body,
                                             char* writable, const LogEmitter& emit) {
    ConvertSummary summary;
    if (IsBlank(absl::string_view(body.data(), body.size()))) return summary;
    body_ = absl::string_view(body.data(), body.size());
    now_text_.clear();
    ClearWindows();
    writable_ = writable;
    windows_read_ = 0;
    read_whole_after_windows_ = false;
    // Large answers: the rows are read in windows of about window_bytes_ (see
    // "Memory" above), and the rest of the answer as a skeleton without them.
    if (body_.size() > 2 * window_bytes_ && PlanWindows()) {
      size_t emitted = 0;
      bool emit_failed = false;
      const LogEmitter counting = [&](plugins::Log&& log, const RowMeta& meta) {
        absl::Status status = emit(std::move(log), meta);
        emit_failed = !status.ok();
        ++emitted;
        return status;
      };
      absl::StatusOr<ConvertSummary> result = ConvertDocument(
          simdjson::padded_string_view(skeleton_.data(), skeleton_.size(),
                                       skeleton_.capacity()),
          counting);
      // The skeleton's reader may not have come to the emptied array (say, it is not
      // in a member named "tables"): then the rows were never read.
      if (result.ok() && !windows_done_) result = WindowsDoNotFit();
      ClearWindows();
      if (result.ok() || emit_failed) return result;
      // The windows did not fit the answer (an unusual shape: see the windowed
      // reading below), or the answer is not valid: read the body whole, which tells
      // which and fails exactly as a small answer does, without emitting the rows
      // emitted already again (they are the answer's first rows, in order).
      size_t skip = emitted;
      read_whole_after_windows_ = true;
      return ConvertDocument(body, [&](plugins::Log&& log, const RowMeta& meta) {
        if (skip > 0) {
          --skip;
          return absl::OkStatus();
        }
        return emit(std::move(log), meta);
      });
    }
    return ConvertDocument(body, emit);
  }

  enum class Kind : uint8_t { kPlain, kDynamic, kDecimal };
  enum class Role : uint8_t { kNone, kTimeGenerated, kType, kItemId, kIngestionTime };
  static constexpr int kRoleCount = 5;

  struct Column {
    std::string name;  // as sent (unescaped)
    std::string key;   // `"name":`, escaped for JSON
    Kind kind = Kind::kPlain;
    Role role = Role::kNone;
  };

  static absl::string_view ToAbsl(std::string_view s) {
    return absl::string_view(s.data(), s.size());
  }

  static bool IsBlank(absl::string_view body) {
    for (char c : body) {
      if (!internal_convert::IsJsonWhitespace(c)) return false;
    }
    return true;
  }

  static absl::Status Invalid(absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("Log Analytics answer: ", what,
                     "; the body is not a valid query answer (check that it is the "
                     "service's unmodified response body)"));
  }

  size_t OffsetOf(const char* p) const {
    if (p < body_.data() || p > body_.data() + body_.size()) return body_.size();
    return static_cast<size_t>(p - body_.data());
  }

  // Maps a simdjson error to a Status naming what was being read and where.
  absl::Status SimdjsonError(simdjson::error_code error, absl::string_view context,
                             simdjson::ondemand::document* doc) const {
    // Where the reader stood, when it got that far (simdjson's first stage, which
    // checks UTF-8, strings and control characters for the whole body, gives none).
    std::string where;
    if (doc != nullptr) {
      const char* location = nullptr;
      if (doc->current_location().get(location) == simdjson::SUCCESS) {
        where = absl::StrCat(" near byte ", OffsetOf(location));
      } else {
        where = " at its end";
      }
    }
    const bool truncated = error == simdjson::UNCLOSED_STRING ||
                           error == simdjson::INCOMPLETE_ARRAY_OR_OBJECT;
    std::string message = absl::StrCat("Log Analytics answer (", body_.size(),
                                       " bytes) is not valid JSON", where, " (", context,
                                       "): ", simdjson::error_message(error));
    if (truncated) {
      absl::StrAppend(&message, "; the body looks cut short: fetch the page again");
      return absl::DataLossError(message);
    }
    absl::StrAppend(&message,
                    "; check that the body is the service's unmodified response body");
    return absl::InvalidArgumentError(message);
  }

  absl::Status CellError(simdjson::error_code error, size_t table, size_t row,
                         size_t column) const {
    return SimdjsonError(error, CellContext(table, row, column), doc_);
  }

  std::string CellContext(size_t table, size_t row, size_t column) const {
    std::string context = absl::StrCat("table ", table, " row ", row, " column ", column);
    if (column < columns_.size()) {
      absl::StrAppend(&context, " (", columns_[column].name, ")");
    }
    return context;
  }

  absl::Status InvalidCell(absl::string_view what, absl::string_view token, size_t table,
                           size_t row, size_t column) const {
    return Invalid(absl::StrCat(CellContext(table, row, column), " at byte ",
                                OffsetOf(token.data()), ": ", what, ": ",
                                token.substr(0, 64)));
  }

  // Appends a readable account of Azure's error object (code, message, details,
  // innererror chain) to `text`.
  absl::Status ReadAzureError(simdjson::ondemand::value& value, int depth,
                              std::string* text) {
    simdjson::ondemand::json_type type;
    simdjson::error_code error = value.type().get(type);
    if (error) return SimdjsonError(error, "reading \"error\"", doc_);
    if (type == simdjson::ondemand::json_type::string) {
      std::string_view message;
      if ((error = value.get_string().get(message))) {
        return SimdjsonError(error, "reading \"error\"", doc_);
      }
      AppendCapped(ToAbsl(message), text);
      return absl::OkStatus();
    }
    if (type != simdjson::ondemand::json_type::object) {
      AppendCapped("(an error member that is not an object)", text);
      return absl::OkStatus();
    }
    simdjson::ondemand::object object;
    if ((error = value.get_object().get(object))) {
      return SimdjsonError(error, "reading \"error\"", doc_);
    }
    std::string code, message, severity;
    std::vector<std::string> nested;
    for (auto member_result : object) {
      simdjson::ondemand::field member;
      std::string_view key;
      if ((error = std::move(member_result).get(member)) || (error = member.unescaped_key().get(key))) {
        return SimdjsonError(error, "reading \"error\"", doc_);
      }
      std::string* target = nullptr;
      if (key == "code") target = &code;
      if (key == "message") target = &message;
      if (key == "severityName") target = &severity;
      if (target != nullptr) {
        std::string_view s;
        if (member.value().get_string().get(s) == simdjson::SUCCESS) {
          target->assign(s.data(), s.size());
        } else {
          std::string_view token = member.value().raw_json_token();
          if (InDocument(token)) target->assign(token.data(), token.size());
        }
        continue;
      }
      if (depth >= 8) continue;
      if (key == "innererror") {
        nested.emplace_back();
        simdjson::ondemand::value inner = member.value();
        absl::Status status = ReadAzureError(inner, depth + 1, &nested.back());
        if (!status.ok()) return status;
      } else if (key == "details") {
        simdjson::ondemand::array details;
        if (member.value().get_array().get(details) != simdjson::SUCCESS) continue;
        for (auto detail_result : details) {
          simdjson::ondemand::value detail;
          if ((error = detail_result.get(detail))) {
            return SimdjsonError(error, "reading \"error\"", doc_);
          }
          nested.emplace_back();
          absl::Status status = ReadAzureError(detail, depth + 1, &nested.back());
          if (!status.ok()) return status;
        }
      }
    }
    std::string own = code.empty() ? std::string("error") : code;
    if (!severity.empty()) absl::StrAppend(&own, " (", severity, ")");
    if (!message.empty()) absl::StrAppend(&own, ": ", message);
    AppendCapped(own, text);
    for (const std::string& n : nested) {
      if (!n.empty()) AppendCapped(absl::StrCat("; ", n), text);
    }
    return absl::OkStatus();
  }

  static void AppendCapped(absl::string_view piece, std::string* text) {
    constexpr size_t kMaxErrorText = 2048;
    if (text->size() >= kMaxErrorText) return;
    text->append(piece.data(), std::min(piece.size(), kMaxErrorText - text->size()));
  }

  // Reads one table object. Its members are read in order (simdjson's unordered
  // lookup assumes a well-formed object when it wraps around, which a hostile body is
  // not), so "columns" must come before "rows", as Log Analytics sends them; a "name"
  // that comes after "rows" is not used for those rows' RowMeta.table.
  absl::Status ConvertTable(simdjson::ondemand::object& table, ConvertSummary& summary,
                            const LogEmitter& emit) {
    const size_t table_index = summary.tables;
    table_name_.clear();
    bool have_columns = false;
    bool have_rows = false;
    simdjson::error_code error;
    for (auto member_result : table) {
      simdjson::ondemand::field member;
      std::string_view key;
      if ((error = std::move(member_result).get(member)) ||
          (error = member.unescaped_key().get(key))) {
        return SimdjsonError(error, absl::StrCat("reading table ", table_index), doc_);
      }
      if (key == "name") {
        std::string_view name;
        if ((error = member.value().get_string().get(name))) {
          if (error == simdjson::INCORRECT_TYPE) {
            return Invalid(absl::StrCat("the name of table ", table_index, " is not a string"));
          }
          return SimdjsonError(
              error, absl::StrCat("reading the name of table ", table_index), doc_);
        }
        table_name_.assign(name.data(), name.size());
      } else if (key == "columns") {
        simdjson::ondemand::value value = member.value();
        absl::Status status = ReadColumns(value, table_index);
        if (!status.ok()) return status;
        have_columns = true;
      } else if (key == "rows") {
        if (!have_columns) {
          return Invalid(absl::StrCat("\"rows\" of table ", table_index,
                                      " comes before its \"columns\""));
        }
        simdjson::ondemand::value value = member.value();
        const bool windowed = IsWindowedRows(value);
        simdjson::ondemand::array rows;
        error = value.get_array().get(rows);
        if (error == simdjson::INCORRECT_TYPE) {
          return Invalid(absl::StrCat("\"rows\" of table ", table_index, " is not an array"));
        }
        if (error) {
          return SimdjsonError(
              error, absl::StrCat("reading the rows of table ", table_index), doc_);
        }
        size_t row_index = 0;
        absl::Status status = ConvertRows(rows, summary, row_index, emit);
        if (!status.ok()) return status;
        if (windowed) {
          status = ConvertWindows(summary, row_index, emit);
          if (!status.ok()) return status;
        }
        have_rows = true;
      }
    }
    if (!have_columns) {
      return Invalid(absl::StrCat("table ", table_index, " has no \"columns\""));
    }
    if (!have_rows) return Invalid(absl::StrCat("table ", table_index, " has no \"rows\""));
    return absl::OkStatus();
  }

  // Converts the rows of `rows`, numbering them from `row_index` (advanced).
  absl::Status ConvertRows(simdjson::ondemand::array& rows, ConvertSummary& summary,
                           size_t& row_index, const LogEmitter& emit) {
    const size_t table_index = summary.tables;
    simdjson::error_code error;
    for (auto row_result : rows) {
      simdjson::ondemand::array row;
      if ((error = row_result.get_array().get(row))) {
        if (error == simdjson::INCORRECT_TYPE) {
          return Invalid(absl::StrCat("row ", row_index, " of table ", table_index,
                                      " is not an array"));
        }
        return SimdjsonError(
            error, absl::StrCat("reading row ", row_index, " of table ", table_index), doc_);
      }
      absl::Status status = ConvertRow(row, table_index, row_index, emit);
      if (!status.ok()) return status;
      ++row_index;
      ++summary.rows;
    }
    return absl::OkStatus();
  }

  static Kind KindOf(absl::string_view type) {
    std::string lower = absl::AsciiStrToLower(type);
    if (absl::StartsWith(lower, "system.")) lower.erase(0, 7);
    if (lower == "dynamic" || lower == "object") return Kind::kDynamic;
    if (lower == "decimal" || lower == "sqldecimal") return Kind::kDecimal;
    return Kind::kPlain;
  }

  // Reads "columns": objects with "name" and "type" (or the older "ColumnName" and
  // "ColumnType"/"DataType"), members in any order.
  absl::Status ReadColumns(simdjson::ondemand::value& value, size_t table_index) {
    simdjson::ondemand::array columns;
    simdjson::error_code error = value.get_array().get(columns);
    if (error == simdjson::INCORRECT_TYPE) {
      return Invalid(absl::StrCat("\"columns\" of table ", table_index, " is not an array"));
    }
    if (error) {
      return SimdjsonError(error, absl::StrCat("reading the columns of table ", table_index),
                           doc_);
    }
    size_t count = 0;
    for (auto column_result : columns) {
      simdjson::ondemand::object column;
      if ((error = column_result.get_object().get(column))) {
        if (error == simdjson::INCORRECT_TYPE) {
          return Invalid(absl::StrCat("column ", count, " of table ", table_index,
                                      " is not an object"));
        }
        return SimdjsonError(
            error, absl::StrCat("reading column ", count, " of table ", table_index), doc_);
      }
      if (count == columns_.size()) columns_.emplace_back();
      Column& c = columns_[count];
      bool have_name = false;
      std::string type;
      for (auto member_result : column) {
        simdjson::ondemand::field member;
        std::string_view key;
        if ((error = std::move(member_result).get(member)) ||
            (error = member.unescaped_key().get(key))) {
          return SimdjsonError(
              error, absl::StrCat("reading column ", count, " of table ", table_index), doc_);
        }
        const bool is_name = key == "name" || key == "ColumnName";
        const bool is_type = key == "type" || key == "ColumnType" || key == "DataType";
        if (!is_name && !is_type) continue;
        std::string_view text;
        error = member.value().get_string().get(text);
        if (error == simdjson::INCORRECT_TYPE) {
          if (is_name) {
            return Invalid(absl::StrCat("the name of column ", count, " of table ",
                                        table_index, " is not a string"));
          }
          continue;  // an unusual type description: treat the column as plain
        }
        if (error) {
          return SimdjsonError(
              error, absl::StrCat("reading column ", count, " of table ", table_index), doc_);
        }
        if (is_name) {
          c.name.assign(text.data(), text.size());
          have_name = true;
        } else {
          type.assign(text.data(), text.size());
        }
      }
      if (!have_name) {
        return Invalid(absl::StrCat("column ", count, " of table ", table_index,
                                    " has no \"name\""));
      }
      c.key.clear();
      internal_convert::AppendEscapedJsonString(c.name, &c.key);
      c.key.push_back(':');
      c.kind = KindOf(type);
      if (!options_.ingestion_time_column.empty() &&
          c.name == options_.ingestion_time_column) {
        c.role = Role::kIngestionTime;
      } else if (c.name == "TimeGenerated") {
        c.role = Role::kTimeGenerated;
      } else if (c.name == "Type") {
        c.role = Role::kType;
      } else if (c.name == "_ItemId") {
        c.role = Role::kItemId;
      } else {
        c.role = Role::kNone;
      }
      ++count;
    }
    columns_.resize(count);
    return absl::OkStatus();
  }

  void AppendKey(const Column& column, std::string& raw) {
    if (raw.size() > 1) raw.push_back(',');
    raw.append(column.key);
  }

  // Validates `json` and appends it minified to `raw`. Returns false, appending
  // nothing, when it is not valid JSON. Sets `*is_null` when it is the literal null.
  static bool AppendValidJson(absl::string_view json, std::string& raw, bool* is_null) {
    const size_t at = raw.size();
    if (!internal_convert::AppendMinifiedJson(json, &raw, is_null)) {
      raw.resize(at);
      return false;
    }
    return true;
  }

  absl::Status ConvertRow(simdjson::ondemand::array& row, size_t table_index,
                          size_t row_index, const LogEmitter& emit) {
    std::string& raw = *log_.mutable_raw();
    raw.clear();
    if (raw.capacity() < raw_reserve_) raw.reserve(raw_reserve_);
    raw.push_back('{');
    absl::string_view role_value[kRoleCount];
    const size_t column_count = columns_.size();
    size_t column = 0;
    for (auto cell_result : row) {
      simdjson::ondemand::value cell;
      simdjson::error_code error = cell_result.get(cell);
      if (error) return CellError(error, table_index, row_index, column);
      if (column >= column_count) {
        return Invalid(absl::StrCat("row ", row_index, " of table ", table_index,
                                    " has more cells than its ", column_count, " columns"));
      }
      const Column& c = columns_[column];
      const std::string_view raw_token = cell.raw_json_token();
      // On some malformed input (seen in a window) simdjson's raw token runs outside
      // the text it reads; it is not read then.
      if (!InDocument(raw_token)) {
        if (in_window_) return WindowsDoNotFit();
        return CellError(simdjson::TAPE_ERROR, table_index, row_index, column);
      }
      const absl::string_view token =
          internal_convert::TrimTrailingJsonWhitespace(ToAbsl(raw_token));
      if (token.empty()) return CellError(simdjson::TAPE_ERROR, table_index, row_index, column);
      switch (token[0]) {
        case '"': {
          if (token.size() < 2 || token.back() != '"') {
            return InvalidCell("not a JSON string", token, table_index, row_index, column);
          }
          if (token.size() == 2) {  // ""
            if (options_.keep_empty_strings && c.role != Role::kIngestionTime) {
              AppendKey(c, raw);
              raw.append("\"\"");
            }
            break;
          }
          if (c.role != Role::kNone) {
            absl::string_view content = token.substr(1, token.size() - 2);
            if (internal_convert::FindBackslash(content.data(),
                                                content.data() + content.size()) != nullptr) {
              std::string& buffer = role_buffer_[static_cast<int>(c.role)];
              buffer.clear();
              if (!internal_convert::UnescapeJsonString(content, &buffer)) {
                return InvalidCell("malformed escape in a string", token, table_index,
                                   row_index, column);
              }
              content = buffer;
            }
            role_value[static_cast<int>(c.role)] = content;
            if (c.role == Role::kIngestionTime) break;
          }
          const size_t mark = raw.size();
          AppendKey(c, raw);
          if (c.kind == Kind::kDynamic) {
            absl::StatusOr<bool> kept =
                AppendDynamic(token, raw, table_index, row_index, column);
            if (!kept.ok()) return kept.status();
            if (!*kept) raw.resize(mark);
          } else if (!internal_convert::AppendJsonStringToken(token, &raw)) {
            return InvalidCell("malformed escape in a string", token, table_index,
                               row_index, column);
          }
          break;
        }
        case 'n':
          if (token != "null") {
            return InvalidCell("not a JSON value", token, table_index, row_index, column);
          }
          break;
        case 't':
        case 'f':
          if (token != "true" && token != "false") {
            return InvalidCell("not a JSON value", token, table_index, row_index, column);
          }
          if (c.role == Role::kIngestionTime) break;
          AppendKey(c, raw);
          raw.append(token.data(), token.size());
          break;
        case '{':
        case '[': {
          // A window may have been cut at a "],[" inside this cell (see the windowed
          // reading below): the answer is read again whole.
          if (in_window_) return WindowsDoNotFit();
          std::string_view json_text;
          if (token[0] == '{') {
            simdjson::ondemand::object object;
            error = cell.get_object().get(object);
            if (!error) error = object.raw_json().get(json_text);
          } else {
            simdjson::ondemand::array array;
            error = cell.get_array().get(array);
            if (!error) error = array.raw_json().get(json_text);
          }
          if (error) return CellError(error, table_index, row_index, column);
          if (c.role == Role::kIngestionTime) break;
          const absl::string_view json =
              internal_convert::TrimTrailingJsonWhitespace(ToAbsl(json_text));
          AppendKey(c, raw);
          bool is_null = false;
          if (!AppendValidJson(json, raw, &is_null)) {
            return InvalidCell("not valid JSON", json, table_index, row_index, column);
          }
          break;
        }
        default:
          if (!internal_convert::IsJsonNumber(token)) {
            return InvalidCell("not a JSON value", token, table_index, row_index, column);
          }
          if (c.role == Role::kIngestionTime) break;
          AppendKey(c, raw);
          if (c.kind == Kind::kDecimal || !internal_convert::IsRepresentableNumber(token)) {
            raw.push_back('"');
            raw.append(token.data(), token.size());
            raw.push_back('"');
          } else {
            raw.append(token.data(), token.size());
          }
          break;
      }
      ++column;
    }
    if (column != column_count) {
      return Invalid(absl::StrCat("row ", row_index, " of table ", table_index, " has ",
                                  column, " cells but the table has ", column_count,
                                  " columns"));
    }
    return FinishRow(raw, role_value, emit);
  }

  // Converts a dynamic cell (a JSON string token whose content should be JSON).
  // Appends the nested JSON and returns true, or returns false when the content is
  // the literal null (nothing appended); content that is not JSON is kept as a string.
  absl::StatusOr<bool> AppendDynamic(absl::string_view token, std::string& raw,
                                     size_t table_index, size_t row_index, size_t column) {
    const absl::string_view content = token.substr(1, token.size() - 2);
    switch (internal_convert::AppendDynamicJson(content, &raw)) {
      case internal_convert::DynamicJson::kNested:
        return true;
      case internal_convert::DynamicJson::kNull:
        return false;
      case internal_convert::DynamicJson::kFallback:
        break;
    }
    dynamic_buffer_.clear();
    if (!internal_convert::UnescapeJsonString(content, &dynamic_buffer_)) {
      return InvalidCell("malformed escape in a string", token, table_index, row_index,
                         column);
    }
    bool is_null = false;
    if (AppendValidJson(dynamic_buffer_, raw, &is_null)) {
      return !is_null;
    }
    if (!internal_convert::AppendJsonStringToken(token, &raw)) {
      return InvalidCell("malformed escape in a string", token, table_index, row_index,
                         column);
    }
    return true;
  }

  const std::string& NowText() {
    if (now_text_.empty()) {
      now_text_ = internal_convert::FormatRfc3339(options_.clock ? options_.clock()
                                                                 : absl::Now());
    }
    return now_text_;
  }

  absl::Status FinishRow(std::string& raw, const absl::string_view* role_value,
                         const LogEmitter& emit) {
    const absl::string_view time_generated =
        role_value[static_cast<int>(Role::kTimeGenerated)];
    const absl::string_view ingestion = role_value[static_cast<int>(Role::kIngestionTime)];
    const absl::string_view type = role_value[static_cast<int>(Role::kType)];
    const absl::string_view item_id = role_value[static_cast<int>(Role::kItemId)];
    const size_t hashed_size = raw.size();

    std::string& timestamp = *log_.mutable_timestamp();
    if (time_generated.empty() ||
        !internal_convert::NormalizeRfc3339(time_generated, &timestamp)) {
      absl::string_view source = "now";
      if (!ingestion.empty() && internal_convert::NormalizeRfc3339(ingestion, &timestamp)) {
        source = "ingestion_time";
      } else {
        timestamp = NowText();
      }
      if (raw.size() > 1) raw.push_back(',');
      raw.push_back('"');
      raw.append(kTimestampSourceField.data(), kTimestampSourceField.size());
      raw.append("\":\"");
      raw.append(source.data(), source.size());
      raw.push_back('"');
    }
    raw.push_back('}');
    if (raw.size() > raw_reserve_) raw_reserve_ = raw.size() + raw.size() / 4;

    const absl::string_view table = type.empty() ? absl::string_view(table_name_) : type;
    internal_convert::Murmur3Hasher hasher;
    hasher.UpdateField(options_.workspace_id);
    hasher.UpdateField(table);
    if (!item_id.empty()) {
      hasher.UpdateField("_ItemId");
      hasher.UpdateField(item_id);
    } else {
      hasher.UpdateField("row");
      hasher.UpdateField(absl::string_view(raw.data(), hashed_size));
    }
    char id[36];
    internal_convert::FormatUuid(hasher.Finish(), id);
    log_.set_id(id, sizeof(id));
    log_.set_datatype(options_.data_type);
    log_.set_datasource(options_.data_source);
    log_.set_tenantid(options_.tenant_id);

    RowMeta meta;
    meta.table = table;
    meta.item_id = item_id;
    meta.ingestion_time = ingestion;
    return emit(std::move(log_), meta);
  }

  // ---- Windowed reading of large answers ----
  //
  // simdjson's on-demand parser indexes the whole document before any of it is read
  // (4 bytes per structural character). For a large answer the converter instead:
  //  1. finds the first table's "rows" array from the start (a short scan: the head
  //     holds the answer's opening and the table's name and columns) and, from the
  //     end, the ']' closing the last table's "rows" array (PlanWindows);
  //  2. reads the skeleton, a copy of the body without what lies between those two
  //     brackets, exactly as a whole body is read;
  //  3. when the skeleton's reader comes to that emptied array, reads its rows from
  //     the body as "[row,...,row]" windows, one document each, with a second parser
  //     whose index is thus bounded by the window. A window ends at a "],[" near
  //     window_bytes_ past its start.
  // Nothing is scanned twice, so the windows cost about what reading the body whole
  // does; instead, each window checks itself: simdjson reports a cut inside a string as an
  // unclosed string (the window is cut at an earlier "],[" instead), and the window
  // must be whole rows exactly (a "],[" inside a row, which only a cell holding an
  // array can have, stops at the first array cell; a rows array ending early leaves
  // bytes after the window's closing bracket). An answer with more than one table, or
  // any other shape the windows do not fit, fails these checks, and is then read again
  // whole (Convert), which also gives a failing answer's exact error.

  static constexpr size_t kNoWindows = ~size_t{0};
  // How far from the end the last table's rows array may close (room for the answer's
  // "error" and statistics members).
  static constexpr size_t kMaxTailBytes = size_t{1} << 20;
  // Cuts tried for one window before the answer is read whole instead.
  static constexpr int kMaxCutAttempts = 16;

  void ClearWindows() {
    rows_open_ = kNoWindows;
    windows_done_ = false;
    skeleton_.clear();
  }

  // Whether `token` lies inside the text being read.
  bool InDocument(std::string_view token) const {
    return token.data() >= doc_begin_ && token.data() <= doc_end_ &&
           token.size() <= static_cast<size_t>(doc_end_ - token.data());
  }

  // Whether `value` is the rows array emptied in the skeleton.
  bool IsWindowedRows(simdjson::ondemand::value& value) {
    if (rows_open_ == kNoWindows) return false;
    return value.raw_json_token().data() == skeleton_.data() + rows_open_;
  }

  size_t SkipWhitespace(size_t i) const {
    while (i < body_.size() && internal_convert::IsJsonWhitespace(body_[i])) ++i;
    return i;
  }

  // Whether the '[' at `open` is the value of a member named exactly "rows" (written
  // without escapes). Sets *unsure when the name has escapes.
  bool IsRowsMember(size_t open, bool* unsure) const {
    size_t i = open;
    while (i > 0 && internal_convert::IsJsonWhitespace(body_[i - 1])) --i;
    if (i == 0 || body_[i - 1] != ':') return false;
    --i;
    while (i > 0 && internal_convert::IsJsonWhitespace(body_[i - 1])) --i;
    if (i == 0 || body_[i - 1] != '"') return false;
    const size_t close = i - 1;
    size_t start = close;
    while (start > 0 && body_[start - 1] != '"') --start;
    if (start == 0) return false;
    const absl::string_view name = body_.substr(start, close - start);
    if (name.find('\\') != absl::string_view::npos ||
        (start >= 2 && body_[start - 2] == '\\')) {
      *unsure = true;
      return false;
    }
    return name == "rows";
  }

  // Keeps plan_stack_, the brackets open at the scan's position: reading forward, an
  // opening bracket is pushed and a closing one must match the top; reading backward,
  // the other way round. Returns false on a mismatch, or when the outermost bracket
  // closes (the answer ends before what is looked for).
  bool StepBrackets(char c, bool forward) {
    const bool opening = c == '[' || c == '{';
    if (opening == forward) {
      plan_stack_.push_back(c);
      return true;
    }
    const char partner = c == '[' ? ']' : c == ']' ? '[' : c == '{' ? '}' : '{';
    if (plan_stack_.empty() || plan_stack_.back() != partner) return false;
    plan_stack_.pop_back();
    return !plan_stack_.empty();
  }

  // The offset of the '[' of the first table's "rows" array (a member of an object in
  // the top object's array), or kNoWindows.
  size_t FindFirstRows() {
    const char* p = body_.data();
    const size_t n = body_.size();
    plan_stack_.clear();
    bool in_string = false;
    for (size_t i = 0; i < n; ++i) {
      const char c = p[i];
      if (in_string) {
        if (c == '\\') {
          ++i;  // the escaped byte
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      switch (c) {
        case '"':
          in_string = true;
          break;
        case '[':
        case '{':
          if (c == '[' && plan_stack_.size() == 3 && plan_stack_[0] == '{' &&
              plan_stack_[1] == '[' && plan_stack_[2] == '{') {
            bool unsure = false;
            if (IsRowsMember(i, &unsure)) return i;
            if (unsure) return kNoWindows;
          }
          [[fallthrough]];
        case ']':
        case '}':
          if (!StepBrackets(c, /*forward=*/true)) return kNoWindows;
          break;
        default:
          break;
      }
    }
    return kNoWindows;
  }

  // Reading back from the end: the offset of the first ']' met that closes an array
  // inside an object inside the top object's array and follows a row's ']', or
  // kNoWindows. Only bytes after `open` are looked at.
  size_t FindLastRowsClose(size_t open) {
    const char* p = body_.data();
    const size_t n = body_.size();
    const size_t stop = std::max(open + 1, n > kMaxTailBytes ? n - kMaxTailBytes : 0);
    plan_stack_.clear();  // closing brackets met, outermost first
    bool in_string = false;
    for (size_t i = n; i > stop;) {
      --i;
      const char c = p[i];
      if (c == '"') {
        size_t backslashes = 0;
        while (i - backslashes > 0 && p[i - backslashes - 1] == '\\') ++backslashes;
        if (backslashes % 2 == 0) in_string = !in_string;
        continue;
      }
      if (in_string) continue;
      switch (c) {
        case ']':
        case '}':
        case '[':
        case '{':
          if (!StepBrackets(c, /*forward=*/false)) return kNoWindows;
          if (c == ']' && plan_stack_.size() == 4 && plan_stack_[0] == '}' &&
              plan_stack_[1] == ']' && plan_stack_[2] == '}') {
            size_t k = i;
            while (k > open + 1 && internal_convert::IsJsonWhitespace(p[k - 1])) --k;
            if (k > open + 1 && p[k - 1] == ']') return i;
          }
          break;
        default:
          break;
      }
    }
    return kNoWindows;
  }

  // Step 1 above: sets rows_open_, rows_close_ and skeleton_. Returns false (and the
  // answer is read whole) when the body does not look like one table's answer.
  bool PlanWindows() {
    const size_t open = FindFirstRows();
    if (open == kNoWindows) return false;
    const size_t close = FindLastRowsClose(open);
    if (close == kNoWindows) return false;
    rows_open_ = open;
    rows_close_ = close;
    skeleton_.reserve(open + 1 + (body_.size() - close) + simdjson::SIMDJSON_PADDING);
    skeleton_.assign(body_.data(), open + 1);
    skeleton_.append(body_.data() + close, body_.size() - close);
    return true;
  }

  // The largest c in (begin, from] where "],[" starts at c - 1, or kNoWindows: a window
  // [begin, c) then ends with a row's ']' and the next starts at c + 1.
  size_t PreviousCut(size_t begin, size_t from) const {
    for (size_t c = from; c > begin; --c) {
      if (IsCut(c)) return c;
    }
    return kNoWindows;
  }

  // Whether "],[" has its comma at `c` (0 < c, c + 1 < body size).
  bool IsCut(size_t c) const {
    return body_[c] == ',' && body_[c - 1] == ']' && body_[c + 1] == '[';
  }

  // Where the window starting at `begin` ends (exclusive); `end` is the rows array's ']'.
  size_t NextCut(size_t begin, size_t end) const {
    if (end - begin <= window_bytes_ + window_bytes_ / 2) return end;
    const size_t target = begin + window_bytes_;
    const size_t before = PreviousCut(begin, target);
    if (before != kNoWindows) return before;
    for (size_t c = target + 1; c + 1 < end; ++c) {  // a row longer than a window
      if (IsCut(c)) return c;
    }
    return end;
  }

  static absl::Status WindowsDoNotFit() {
    return absl::AbortedError("the rows windows do not fit this answer");
  }

  // Step 3 above: the rows between rows_open_ and rows_close_, window by window,
  // numbered from `row_index`. Any status but the emitter's makes the caller read the
  // answer whole.
  absl::Status ConvertWindows(ConvertSummary& summary, size_t& row_index,
                              const LogEmitter& emit) {
    const size_t end = rows_close_;
    size_t begin = SkipWhitespace(rows_open_ + 1);
    size_t opening = rows_open_;  // the '[' or ',' just before `begin`
    simdjson::ondemand::document* outer = doc_;
    while (begin < end) {
      size_t cut = NextCut(begin, end);
      // With a writable body the window is read where it is, as the bytes from the
      // comma (or '[') before its first row to the comma (or ']') after its last,
      // which hold '[' and ']' meanwhile; else it is a copy: '[' + rows + ']'.
      ScopedByte open_byte;
      ScopedByte close_byte;
      simdjson::ondemand::document doc;
      simdjson::error_code error = simdjson::SUCCESS;
      simdjson::padded_string_view window;
      for (int attempt = 1;; ++attempt) {
        if (writable_ != nullptr) {
          open_byte.Set(writable_ + opening, '[');
          close_byte.Set(writable_ + cut, ']');
          window = simdjson::padded_string_view(
              writable_ + opening, cut + 1 - opening,
              body_.size() + simdjson::SIMDJSON_PADDING - opening);
        } else {
          const size_t size = cut - begin + 2;
          if (window_capacity_ < size + simdjson::SIMDJSON_PADDING) {
            window_capacity_ = size + size / 8 + simdjson::SIMDJSON_PADDING;
            window_.reset(new char[window_capacity_]);
          }
          window_[0] = '[';
          std::memcpy(window_.get() + 1, body_.data() + begin, size - 2);
          window_[size - 1] = ']';
          std::memset(window_.get() + size, 0, simdjson::SIMDJSON_PADDING);
          window = simdjson::padded_string_view(window_.get(), size, window_capacity_);
        }
        error = window_parser_.iterate(window).get(doc);
        // A cut inside a string: try the "],[" before it.
        if (error != simdjson::UNCLOSED_STRING || cut == end || attempt == kMaxCutAttempts) {
          break;
        }
        close_byte.Restore();
        cut = PreviousCut(begin, cut - 1);
        if (cut == kNoWindows) break;
      }
      if (error) return WindowsDoNotFit();
      ++windows_read_;
      simdjson::ondemand::array rows;
      if (doc.get_array().get(rows)) return WindowsDoNotFit();
      doc_ = &doc;
      const char* const outer_begin = std::exchange(doc_begin_, window.data());
      const char* const outer_end = std::exchange(doc_end_, window.data() + window.length());
      in_window_ = true;
      absl::Status status = ConvertRows(rows, summary, row_index, emit);
      in_window_ = false;
      doc_ = outer;
      doc_begin_ = outer_begin;
      doc_end_ = outer_end;
      if (!status.ok()) return status;
      const char* rest = nullptr;
      if (doc.current_location().get(rest) == simdjson::SUCCESS && rest != nullptr) {
        return WindowsDoNotFit();  // the rows array ended inside the window
      }
      if (cut == end) break;
      opening = cut;
      begin = cut + 1;
    }
    windows_done_ = true;
    return absl::OkStatus();
  }

  // A byte of the body replaced for a while: the old one is put back by Restore() or
  // at the end of the scope.
  class ScopedByte {
   public:
    ScopedByte() = default;
    ScopedByte(const ScopedByte&) = delete;
    ScopedByte& operator=(const ScopedByte&) = delete;
    ~ScopedByte() { Restore(); }
    void Set(char* at, char value) {
      Restore();
      at_ = at;
      saved_ = *at;
      *at = value;
    }
    void Restore() {
      if (at_ != nullptr) *at_ = saved_;
      at_ = nullptr;
    }

   private:
    char* at_ = nullptr;
    char saved_ = 0;
  };

  ConvertOptions options_;
  simdjson::ondemand::parser parser_;
  simdjson::ondemand::parser window_parser_;
  size_t window_bytes_ = kDefaultWindowBytes;
  // The rows array read in windows: body offsets of its '[' (also its offset in
  // skeleton_, which starts with the body's head) and of its ']'; kNoWindows when
  // the answer is read whole.
  size_t rows_open_ = kNoWindows;
  size_t rows_close_ = 0;
  bool in_window_ = false;  // the rows being converted come from a window
  char* writable_ = nullptr;  // the body's bytes, when windows may be read in place
  bool windows_done_ = false;  // every window of the rows array was read
  size_t windows_read_ = 0;
  bool read_whole_after_windows_ = false;
  std::string skeleton_;
  std::unique_ptr<char[]> window_;
  size_t window_capacity_ = 0;
  std::vector<char> plan_stack_;
  std::unique_ptr<char[]> copy_;
  size_t copy_capacity_ = 0;
  std::vector<Column> columns_;
  std::string table_name_;
  std::string dynamic_buffer_;
  std::string role_buffer_[kRoleCount];
  std::string now_text_;
  size_t raw_reserve_ = 256;
  plugins::Log log_;
  // Valid during ConvertPadded only.
  absl::string_view body_;
  simdjson::ondemand::document* doc_ = nullptr;
  // The text doc_ reads (the answer, its skeleton, or a window): every raw token must
  // lie inside it.
  const char* doc_begin_ = nullptr;
  const char* doc_end_ = nullptr;
};

// Converts one answer with a fresh LogConverter; see LogConverter::Convert for the
// behaviour and the status codes. `body` is copied into a padded buffer.
// Thread-safe (nothing is shared between calls).
inline absl::StatusOr<ConvertSummary> ConvertAnswer(absl::string_view body,
                                                    const ConvertOptions& options,
                                                    const LogEmitter& emit) {
  LogConverter converter(options);
  return converter.Convert(body, emit);
}

// ConvertAnswer without the copy: `body` must have simdjson::SIMDJSON_PADDING readable bytes
// after its end (see LogConverter::ConvertPadded). Thread-safe.
inline absl::StatusOr<ConvertSummary> ConvertPaddedAnswer(simdjson::padded_string_view body,
                                                          const ConvertOptions& options,
                                                          const LogEmitter& emit) {
  LogConverter converter(options);
  return converter.ConvertPadded(body, emit);
}

// Converts `body` and writes each Log to `out` as one line of protobuf's JSON mapping
// (field names as json_name: "id", "dataType", "dataSource", "@timestamp", "tenantId",
// "raw"; empty fields left out), for the `convert` subcommand.
// Returns what ConvertAnswer returns, or kUnavailable when writing to `out` fails
// (the message says after how many lines). Thread-safe if `out` is not shared.
inline absl::StatusOr<ConvertSummary> ConvertAnswerToJsonLines(absl::string_view body,
                                                               const ConvertOptions& options,
                                                               std::ostream& out) {
  std::string line;
  size_t lines = 0;
  google::protobuf::util::JsonPrintOptions print_options;
  return ConvertAnswer(body, options,
                       [&](plugins::Log&& log, const RowMeta&) -> absl::Status {
                         line.clear();
                         auto status = google::protobuf::util::MessageToJsonString(
                             log, &line, print_options);
                         if (!status.ok()) {
                           return absl::InternalError(absl::StrCat(
                               "printing Log ", lines, " as JSON: ", status.ToString()));
                         }
                         line.push_back('\n');
                         out.write(line.data(), static_cast<std::streamsize>(line.size()));
                         if (!out) {
                           return absl::UnavailableError(absl::StrCat(
                               "writing JSON lines: the output stream failed after ",
                               lines, " lines"));
                         }
                         ++lines;
                         return absl::OkStatus();
                       });
}

}  // namespace loganalytics

#endif  // LOGANALYTICS_CONVERT_LOG_CONVERTER_H_
