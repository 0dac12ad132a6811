// File: plugin_main/status_report.h
//
// The `status` subcommand's view: cursor, lag, rows delivered and last error of every
// (workspace, query) found in the state directory, read from the checkpoint files
// alone (it works while the service runs, or after it stopped).
//
// Example:
//   auto rows = plugin_main::ReadStatus("/var/lib/azure-la", absl::Now());
//   if (!rows.ok()) return rows.status();
//   std::cout << plugin_main::FormatStatusTable(*rows);
//
// Status codes: kNotFound when the state directory does not exist. A corrupt checkpoint
// is reported in its row (error column), not as a failure of the whole listing.
// Thread-compatible.
#ifndef PLUGIN_MAIN_STATUS_REPORT_H_
#define PLUGIN_MAIN_STATUS_REPORT_H_

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "plugin_main/checkpoint_store.h"

namespace plugin_main {

struct StatusRow {
  std::string workspace;
  std::string query;
  std::string file;
  absl::Time cursor = absl::InfinitePast();
  absl::Duration lag = absl::InfiniteDuration();
  uint64_t rows_delivered = 0;
  absl::Time updated_at = absl::InfinitePast();
  std::string last_error;
};

inline absl::StatusOr<std::vector<StatusRow>> ReadStatus(const std::string& state_dir,
                                                         absl::Time now) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(state_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && absl::EndsWith(name, ".json")) files.push_back(entry.path());
  }
  if (ec) {
    return absl::NotFoundError(absl::StrCat("cannot list state directory ", state_dir, ": ",
                                            ec.message(), "; has the connector run yet?"));
  }
  std::sort(files.begin(), files.end());
  std::vector<StatusRow> rows;
  FileCheckpointStore store(state_dir);
  for (const auto& path : files) {
    // "<workspace>.<query>.json": names contain no '.'-free guarantee, so read the
    // names from the file itself and fall back to the file name.
    StatusRow row;
    row.file = path.string();
    std::string stem = path.stem().string();
    size_t dot = stem.find('.');
    row.workspace = stem.substr(0, dot);
    row.query = dot == std::string::npos ? "" : stem.substr(dot + 1);
    std::string content;
    {
      std::ifstream in(path, std::ios::binary);
      content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    auto cp = CheckpointFromJson(content, row.file);
    if (!cp.ok()) {
      row.last_error = std::string(cp.status().message());
    } else {
      row.cursor = cp->ingestion_time;
      row.lag = cp->ingestion_time == absl::InfinitePast() ? absl::InfiniteDuration()
                                                           : now - cp->ingestion_time;
      row.rows_delivered = cp->rows_delivered;
      row.updated_at = cp->updated_at;
      row.last_error = cp->last_error;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

inline std::string FormatStatusTable(const std::vector<StatusRow>& rows) {
  std::string out = absl::StrFormat("%-20s %-24s %-30s %-12s %12s  %s\n", "WORKSPACE", "QUERY",
                                    "CURSOR (ingestion time)", "LAG", "ROWS", "LAST ERROR");
  for (const StatusRow& r : rows) {
    std::string cursor = r.cursor == absl::InfinitePast()
                             ? "-"
                             : absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", r.cursor,
                                                absl::UTCTimeZone());
    std::string lag = r.lag == absl::InfiniteDuration()
                          ? "-"
                          : absl::FormatDuration(absl::Trunc(r.lag, absl::Seconds(1)));
    absl::StrAppendFormat(&out, "%-20s %-24s %-30s %-12s %12d  %s\n", r.workspace, r.query,
                          cursor, lag, r.rows_delivered,
                          r.last_error.empty() ? "-" : r.last_error);
  }
  if (rows.empty()) out += "(no checkpoints yet)\n";
  return out;
}

}  // namespace plugin_main

#endif  // PLUGIN_MAIN_STATUS_REPORT_H_
