// File: plugin_main/utmstack_config.h
//
// Configuration inside UTMStack. The engine-wide settings are the merge of every
// `$WORK_DIR/pipeline/*.yaml`; the backend address and internal key sit under
// `plugins["com.utmstack"]` as `backend` and `internalKey`. The integration's own
// settings (Integrations > Microsoft Azure in the console) come from the backend's
// `GET /api/utm-modules/module-details-decrypted?nameShort=AZURE&serverId=1` with the
// header `Utm-Internal-Key`, one workspace connection per module group.
//
// Example:
//   ASSIGN_OR_RETURN(plugin_main::PipelineSettings pipeline,
//                    plugin_main::ReadPipelineSettings(work_dir + "/pipeline"));
//   plugin_main::ModuleConfigClient client(transport, pipeline);
//   ASSIGN_OR_RETURN(plugin_main::ModuleGroups groups, client.Fetch());
//   for (const auto& problem : groups.problems) log.Warning(problem);
//   // groups.workspaces: one WorkspaceSettings per complete group
//
// Status codes: kNotFound (no pipeline YAML / no com.utmstack section), kInvalidArgument
// (malformed YAML or JSON), kUnauthenticated (backend refused the internal key),
// kUnavailable (backend unreachable or 5xx). The internal key and client secrets never
// appear in messages. Thread-compatible; ModuleConfigClient::Fetch is thread-safe if the
// transport is.
#ifndef PLUGIN_MAIN_UTMSTACK_CONFIG_H_
#define PLUGIN_MAIN_UTMSTACK_CONFIG_H_

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "http/http_transport.h"
#include "plugin_main/config.h"
#include "simdjson.h"
#include "yaml-cpp/yaml.h"

namespace plugin_main {

struct PipelineSettings {
  std::string backend;       // host[:port] or a URL
  std::string internal_key;  // secret: never logged
  std::string mode;          // env.mode: "manager" or "worker", may be empty
};

namespace utmstack_internal {

// Merges `from` into `into`: maps key by key, anything else replaced.
inline void MergeYaml(YAML::Node into, const YAML::Node& from) {
  if (!from.IsMap() || !into.IsMap()) return;
  for (const auto& item : from) {
    const std::string key = item.first.as<std::string>("");
    if (into[key] && into[key].IsMap() && item.second.IsMap()) {
      MergeYaml(into[key], item.second);
    } else {
      into[key] = YAML::Clone(item.second);
    }
  }
}

// "Tenant ID", "tenantId", "tenant_id" -> "tenantid".
inline std::string NormaliseKey(absl::string_view key) {
  std::string out;
  for (char c : key) {
    if (absl::ascii_isalnum(c)) out.push_back(absl::ascii_tolower(c));
  }
  return out;
}

inline absl::string_view View(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace utmstack_internal

// Reads and merges every *.yaml in `pipeline_dir` (in name order) and extracts the
// backend settings. kNotFound when the folder or the com.utmstack section is missing,
// kInvalidArgument naming the file for malformed YAML.
inline absl::StatusOr<PipelineSettings> ReadPipelineSettings(const std::string& pipeline_dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(pipeline_dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      files.push_back(entry.path());
    }
  }
  if (ec) {
    return absl::NotFoundError(absl::StrCat("cannot read UTMStack pipeline folder ", pipeline_dir,
                                            ": ", ec.message(),
                                            "; is WORK_DIR set to UTMStack's work directory?"));
  }
  std::sort(files.begin(), files.end());
  YAML::Node merged(YAML::NodeType::Map);
  for (const auto& file : files) {
    YAML::Node doc;
    try {  // yaml-cpp reports errors by exception; they stop here.
      doc = YAML::LoadFile(file.string());
    } catch (const YAML::Exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("UTMStack pipeline file ", file.string(), " is not valid YAML: ", e.what()));
    }
    utmstack_internal::MergeYaml(merged, doc);
  }
  PipelineSettings settings;
  try {
    YAML::Node utm = merged["plugins"]["com.utmstack"];
    if (!utm || !utm.IsMap()) {
      return absl::NotFoundError(absl::StrCat(
          "no plugins[\"com.utmstack\"] section in ", pipeline_dir,
          "/*.yaml: the connector needs the backend address and internal key from it"));
    }
    settings.backend = utm["backend"].as<std::string>("");
    settings.internal_key = utm["internalKey"].as<std::string>("");
    settings.mode = merged["env"]["mode"].as<std::string>("");
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("UTMStack pipeline settings in ", pipeline_dir, " are malformed: ", e.what()));
  }
  if (settings.backend.empty()) {
    return absl::NotFoundError("plugins[\"com.utmstack\"].backend is empty in the pipeline settings");
  }
  if (settings.internal_key.empty()) {
    return absl::NotFoundError(
        "plugins[\"com.utmstack\"].internalKey is empty in the pipeline settings");
  }
  return settings;
}

// The AZURE module's groups, turned into workspace settings.
struct ModuleGroups {
  bool module_active = false;
  std::vector<WorkspaceSettings> workspaces;
  // One line per group that was skipped, naming the group and the missing field.
  std::vector<std::string> problems;
};

// Parses the backend's module-details answer. Each complete group becomes a workspace
// with a client secret held in memory; each incomplete one a line in `problems`.
// `defaults` supplies queries, intervals and cloud for every group.
// kInvalidArgument for a body that is not the expected JSON.
inline absl::StatusOr<ModuleGroups> ParseModuleGroups(absl::string_view body,
                                                      const WorkspaceSettings& defaults) {
  using utmstack_internal::NormaliseKey;
  using utmstack_internal::View;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("UTMStack backend's AZURE module answer is not JSON");
  }
  ModuleGroups out;
  // A group's name names its queries and their checkpoints: two groups with one name
  // would take turns replacing each other, so only the first is read.
  absl::flat_hash_set<std::string> names;
  bool active = false;
  if (doc["moduleActive"].get_bool().get(active) == simdjson::SUCCESS) out.module_active = active;
  simdjson::dom::array groups;
  if (doc["moduleGroups"].get_array().get(groups) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        "UTMStack backend's AZURE module answer has no moduleGroups array");
  }
  for (simdjson::dom::element group : groups) {
    std::string_view group_name;
    if (group["groupName"].get_string().get(group_name) != simdjson::SUCCESS ||
        group_name.empty()) {
      int64_t id = 0;
      if (group["id"].get_int64().get(id) != simdjson::SUCCESS) id = 0;
      out.problems.push_back(absl::StrCat("AZURE group id ", id, " has no name; skipped"));
      continue;
    }
    std::string tenant, client, secret, workspace;
    simdjson::dom::array confs;
    if (group["moduleGroupConfigurations"].get_array().get(confs) == simdjson::SUCCESS) {
      for (simdjson::dom::element conf : confs) {
        std::string_view key, name, value;
        if (conf["confKey"].get_string().get(key) != simdjson::SUCCESS) key = {};
        if (conf["confName"].get_string().get(name) != simdjson::SUCCESS) name = {};
        if (conf["confValue"].get_string().get(value) != simdjson::SUCCESS) value = {};
        for (const std::string& k : {NormaliseKey(View(key)), NormaliseKey(View(name))}) {
          std::string* target = nullptr;
          if (absl::EndsWith(k, "tenantid")) target = &tenant;
          else if (absl::EndsWith(k, "clientid")) target = &client;
          else if (absl::EndsWith(k, "clientsecret")) target = &secret;
          else if (absl::EndsWith(k, "workspaceid")) target = &workspace;
          if (target != nullptr) {
            *target = std::string(absl::StripAsciiWhitespace(View(value)));
            break;
          }
        }
      }
    }
    std::vector<std::string> missing;
    if (tenant.empty()) missing.push_back("Tenant ID");
    if (client.empty()) missing.push_back("Client ID");
    if (secret.empty()) missing.push_back("Client Secret");
    if (workspace.empty()) missing.push_back("Workspace ID");
    if (!missing.empty()) {
      out.problems.push_back(absl::StrCat("AZURE group \"", View(group_name), "\" lacks ",
                                          absl::StrJoin(missing, ", "),
                                          "; fill it in under Integrations > Microsoft Azure"));
      continue;
    }
    if (!names.insert(std::string(group_name)).second) {
      out.problems.push_back(absl::StrCat(
          "AZURE groups share the name \"", View(group_name),
          "\"; only the first is read: give each group its own name under Integrations > "
          "Microsoft Azure"));
      continue;
    }
    WorkspaceSettings ws = defaults;
    ws.proto.set_name(std::string(group_name));
    ws.proto.set_tenant_id(tenant);
    ws.proto.set_client_id(client);
    ws.proto.set_workspace_id(workspace);
    ws.proto.set_client_secret_env("");  // the secret is held in memory, below
    ws.inline_secret = secret;
    out.workspaces.push_back(std::move(ws));
  }
  return out;
}

// Fetches the AZURE module's settings from the UTMStack backend.
class ModuleConfigClient {
 public:
  ModuleConfigClient(std::shared_ptr<http::HttpTransport> transport, PipelineSettings pipeline)
      : transport_(std::move(transport)), pipeline_(std::move(pipeline)) {}

  // The module-details URL for this backend.
  std::string Url() const {
    std::string base = pipeline_.backend;
    if (!absl::StrContains(base, "://")) base = "https://" + base;
    while (absl::EndsWith(base, "/")) base.pop_back();
    return base + "/api/utm-modules/module-details-decrypted?nameShort=AZURE&serverId=1";
  }

  // kUnauthenticated when the backend refuses the key, kUnavailable when unreachable
  // or 5xx, kInvalidArgument for a malformed answer.
  absl::StatusOr<ModuleGroups> Fetch(const WorkspaceSettings& defaults) {
    http::HttpRequest request;
    request.method = "GET";
    request.url = Url();
    request.headers = {{"Utm-Internal-Key", pipeline_.internal_key},
                       {"Accept", "application/json"}};
    auto response = transport_->Send(request);
    if (!response.ok()) {
      return absl::Status(response.status().code(),
                          absl::StrCat("cannot reach the UTMStack backend at ",
                                       http::HostOf(request.url), ": ",
                                       response.status().message()));
    }
    if (response->status != 200) {
      std::string reason = response->Header("X-UtmStack-error").value_or(
          response->body.substr(0, 256));
      std::string message =
          absl::StrCat("UTMStack backend answered HTTP ", response->status,
                       " for the AZURE module settings: ", reason);
      if (response->status == 401 || response->status == 403) {
        return absl::UnauthenticatedError(
            absl::StrCat(message, "; check plugins[\"com.utmstack\"].internalKey"));
      }
      if (response->status >= 500) return absl::UnavailableError(message);
      return absl::FailedPreconditionError(message);
    }
    return ParseModuleGroups(response->body, defaults);
  }

 private:
  std::shared_ptr<http::HttpTransport> transport_;
  PipelineSettings pipeline_;
};

}  // namespace plugin_main

#endif  // PLUGIN_MAIN_UTMSTACK_CONFIG_H_
