// File: testdata/workspace_model/records_file.h
//
// Loads a recorded workspace, one JSON record per line, into a WorkspaceModel, with
// times relative to a reference instant (so a recording stays "recent" whenever it is
// served):
//
//   {"table":"SigninLogs","item_id":"…","ingested_ago":"170m",
//    "generated_before_ingestion":"34s","visible_after_ingestion":"30s",
//    "columns":{"UserPrincipalName":"a@contoso.com","IsInteractive":true,
//               "RiskScore":3,"Latitude":52.37,"LocationDetails":{"city":"Amsterdam"}}}
//
// Column types follow the JSON value: string → string, integer → long, other number →
// real, true/false → bool, object or array → dynamic (compact JSON). Durations are
// absl::ParseDuration strings; "generated_before_ingestion" may be days (late arrival).
//
// Example:
//   workspace_model::WorkspaceModel model;
//   absl::StatusOr<size_t> n = workspace_model::LoadRecordsFile(
//       "testdata/azure/workspace_records.jsonl", "ws-id", absl::Now(), &model);
//
// Returns kNotFound for an unreadable file, kInvalidArgument naming the line for a bad
// record. Thread-safe if the model is.
#ifndef TESTDATA_WORKSPACE_MODEL_RECORDS_FILE_H_
#define TESTDATA_WORKSPACE_MODEL_RECORDS_FILE_H_

#include <fstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "simdjson.h"
#include "testdata/workspace_model/workspace_model.h"

namespace workspace_model {

inline absl::StatusOr<size_t> LoadRecordsFile(const std::string& path,
                                              const std::string& workspace_id,
                                              absl::Time reference, WorkspaceModel* model) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read records file ", path));
  model->AddWorkspace(workspace_id);
  simdjson::dom::parser parser;
  std::string line;
  size_t line_number = 0, loaded = 0;
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number, ": ", why));
  };
  auto duration = [&](simdjson::dom::element record, const char* key,
                      absl::Duration* out) -> bool {
    std::string_view text;
    if (record[key].get_string().get(text) != simdjson::SUCCESS) {
      *out = absl::ZeroDuration();
      return true;
    }
    return absl::ParseDuration(absl::string_view(text.data(), text.size()), out);
  };
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) continue;
    simdjson::dom::element record;
    if (parser.parse(line).get(record) != simdjson::SUCCESS) return bad("not JSON");
    Record r;
    std::string_view table, item_id;
    if (record["table"].get_string().get(table) != simdjson::SUCCESS) return bad("no table");
    if (record["item_id"].get_string().get(item_id) != simdjson::SUCCESS) {
      return bad("no item_id");
    }
    r.table = std::string(table);
    r.item_id = std::string(item_id);
    absl::Duration ago, generated_before, visible_after;
    if (!duration(record, "ingested_ago", &ago) ||
        !duration(record, "generated_before_ingestion", &generated_before) ||
        !duration(record, "visible_after_ingestion", &visible_after)) {
      return bad("a duration is not like \"90s\", \"3h\" or \"26h\"");
    }
    r.ingestion_time = reference - ago;
    r.time_generated = r.ingestion_time - generated_before;
    r.visible_at = r.ingestion_time + visible_after;
    simdjson::dom::object columns;
    if (record["columns"].get_object().get(columns) != simdjson::SUCCESS) {
      return bad("no columns object");
    }
    for (auto [key, value] : columns) {
      std::string name(key);
      switch (value.type()) {
        case simdjson::dom::element_type::STRING:
          r.columns.push_back(Column::String(name, std::string(value.get_string().value())));
          break;
        case simdjson::dom::element_type::INT64:
        case simdjson::dom::element_type::UINT64:
          r.columns.push_back(Column::Long(name, value.get_int64().value()));
          break;
        case simdjson::dom::element_type::DOUBLE:
          r.columns.push_back(Column{name, "real", "", 0, simdjson::minify(value)});
          break;
        case simdjson::dom::element_type::BOOL:
          r.columns.push_back(Column{name, "bool", "", 0, value.get_bool().value() ? "true" : "false"});
          break;
        case simdjson::dom::element_type::NULL_VALUE:
          break;
        default: {
          std::string json = simdjson::minify(value);
          r.columns.push_back(Column::Dynamic(name, json));
        }
      }
    }
    model->AddRecord(workspace_id, std::move(r));
    ++loaded;
  }
  return loaded;
}

}  // namespace workspace_model

#endif  // TESTDATA_WORKSPACE_MODEL_RECORDS_FILE_H_
