// File: plugin_main/config.h
//
// Reads and checks the connector's standalone configuration: a JSON file in the
// protobuf JSON mapping of utmstack_azure.config.ConnectorConfig (proto/config.proto),
// then overrides from the environment and flags, then defaults. Every error names the
// offending field (`workspaces[1].client_id`) and says what to put there.
//
// Example:
//   absl::StatusOr<plugin_main::Settings> settings =
//       plugin_main::LoadSettings("/etc/azure-la/config.json", plugin_main::ProcessEnv());
//   if (!settings.ok()) { std::cerr << settings.status() << "\n"; return 2; }
//   for (const plugin_main::WorkspaceSettings& ws : settings->workspaces) { ... }
//
// All functions are pure apart from reading the named file and are thread-compatible.
//
// Status codes: kInvalidArgument naming the first offending field (ParseConfigJson,
// ResolveSettings, LoadSettings); kNotFound when LoadSettings cannot read the file.
#ifndef PLUGIN_MAIN_CONFIG_H_
#define PLUGIN_MAIN_CONFIG_H_

#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "proto/config.pb.h"

namespace plugin_main {

// UTMStack's default tenant, the constant its plugins put in Log.tenantId.
inline constexpr absl::string_view kDefaultTenantId = "ce66672c-e36d-4761-a8c8-90058fee1a24";
// Unix socket paths are limited by sockaddr_un.sun_path (108 bytes with the NUL).
inline constexpr size_t kMaxSocketPathBytes = 107;

using Env = std::function<std::optional<std::string>(absl::string_view name)>;

// Reads the real process environment.
inline Env ProcessEnv() {
  return [](absl::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

// One query of one workspace, resolved: either a preset name or custom KQL.
struct QuerySettings {
  std::string name;       // cursor and log name
  std::string preset;     // preset name, empty for custom KQL
  std::string kql;        // custom KQL, empty for a preset
  std::string data_type;  // Log.dataType; empty means the preset's or "azure"
};

struct WorkspaceSettings {
  utmstack_azure::config::Workspace proto;  // as configured, defaults filled in
  std::vector<QuerySettings> queries;
  absl::Duration poll_interval;
  absl::Duration settle_delay;
  absl::Duration lookback;
  // Where a query with no cursor starts; InfinitePast means "now" at first run.
  absl::Time start_at = absl::InfinitePast();
  // A client secret handed over in memory (UTMStack console groups); never logged.
  std::string inline_secret;
};

struct Settings {
  std::vector<WorkspaceSettings> workspaces;
  std::string engine_socket;
  std::string state_dir;
  std::string tenant_id;
  std::string log_level;
  int metrics_port = 0;
};

// Overrides applied after the file: flags win over the environment, which wins over the
// file. Empty fields leave the value as it is.
struct Overrides {
  std::string engine_socket;
  std::string state_dir;
  std::string log_level;
};

namespace config_internal {

inline absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("config: ", field, ": ", problem));
}

inline absl::StatusOr<absl::Duration> ParseDurationField(absl::string_view field,
                                                         const std::string& text,
                                                         absl::Duration default_value,
                                                         absl::Duration min_value) {
  if (text.empty()) return default_value;
  absl::Duration d;
  if (!absl::ParseDuration(text, &d)) {
    return FieldError(field, absl::StrCat("\"", text,
                                          "\" is not a duration; write it like \"30s\", "
                                          "\"5m\" or \"1h30m\""));
  }
  if (d < min_value) {
    return FieldError(field, absl::StrCat("\"", text, "\" is below the minimum of ",
                                          absl::FormatDuration(min_value)));
  }
  return d;
}

}  // namespace config_internal

// Parses `json` (the file's content; `source` names it in errors). Unknown keys are
// errors that name the key. Returns kInvalidArgument.
inline absl::StatusOr<utmstack_azure::config::ConnectorConfig> ParseConfigJson(
    absl::string_view json, absl::string_view source) {
  utmstack_azure::config::ConnectorConfig config;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &config, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config ", source, " is not a valid configuration: ",
                     std::string(status.message()),
                     " (see config.example.json for every key)"));
  }
  return config;
}

// Checks `config`, fills in defaults, applies `overrides` and environment defaults
// ($WORK_DIR), and returns the resolved settings. Returns kInvalidArgument naming the
// first offending field.
inline absl::StatusOr<Settings> ResolveSettings(
    const utmstack_azure::config::ConnectorConfig& config, const Env& env,
    const Overrides& overrides = {}) {
  using config_internal::FieldError;
  using config_internal::ParseDurationField;
  Settings settings;
  const std::string work_dir = env("WORK_DIR").value_or("/workdir");

  settings.engine_socket = config.engine().socket();
  if (auto v = env("AZURE_LA_ENGINE_SOCKET"); v && !v->empty()) settings.engine_socket = *v;
  if (!overrides.engine_socket.empty()) settings.engine_socket = overrides.engine_socket;
  if (settings.engine_socket.empty()) {
    settings.engine_socket = work_dir + "/sockets/engine_server.sock";
  }
  if (settings.engine_socket.size() > kMaxSocketPathBytes) {
    return FieldError("engine.socket",
                      absl::StrCat("\"", settings.engine_socket, "\" is ",
                                   settings.engine_socket.size(),
                                   " bytes; Unix socket paths are limited to ",
                                   kMaxSocketPathBytes, " bytes: use a shorter path"));
  }

  settings.state_dir = config.state_dir();
  if (auto v = env("AZURE_LA_STATE_DIR"); v && !v->empty()) settings.state_dir = *v;
  if (!overrides.state_dir.empty()) settings.state_dir = overrides.state_dir;
  if (settings.state_dir.empty()) settings.state_dir = work_dir + "/azure-loganalytics/state";

  settings.tenant_id = config.tenant_id().empty() ? std::string(kDefaultTenantId)
                                                  : config.tenant_id();
  settings.log_level = config.log_level();
  if (auto v = env("AZURE_LA_LOG_LEVEL"); v && !v->empty()) settings.log_level = *v;
  if (!overrides.log_level.empty()) settings.log_level = overrides.log_level;
  if (settings.log_level.empty()) settings.log_level = "info";
  if (settings.log_level != "debug" && settings.log_level != "info" &&
      settings.log_level != "warning" && settings.log_level != "error") {
    return FieldError("log_level", absl::StrCat("\"", settings.log_level,
                                                "\" is not one of debug, info, warning, error"));
  }
  if (config.metrics_port() < 0 || config.metrics_port() > 65535) {
    return FieldError("metrics_port", "must be 0 (off) or a port from 1 to 65535");
  }
  settings.metrics_port = config.metrics_port();

  if (config.workspaces_size() == 0) {
    return FieldError("workspaces", "no workspace configured; add at least one");
  }
  absl::flat_hash_set<std::string> names;
  // Checkpoint files are named "<workspace>.<query>.json", and both names may hold
  // dots: two pairs must not meet in one file (each would resume from the other's
  // cursor).
  absl::flat_hash_map<std::string, std::string> checkpoint_files;
  for (int i = 0; i < config.workspaces_size(); ++i) {
    const auto& in = config.workspaces(i);
    const std::string field = absl::StrCat("workspaces[", i, "]");
    WorkspaceSettings ws;
    ws.proto = in;
    if (in.name().empty()) return FieldError(field + ".name", "missing; give the workspace a name");
    if (!names.insert(in.name()).second) {
      return FieldError(field + ".name", absl::StrCat("\"", in.name(), "\" is used twice"));
    }
    for (char c : in.name()) {
      if (!(absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.')) {
        return FieldError(field + ".name",
                          "may contain only letters, digits, '-', '_' and '.' (it names "
                          "checkpoint files)");
      }
    }
    if (in.workspace_id().empty()) {
      return FieldError(field + ".workspace_id",
                        "missing; copy the Workspace ID from the workspace's overview page");
    }
    const bool needs_app = in.credential_case() !=
                           utmstack_azure::config::Workspace::kManagedIdentity;
    if (needs_app && in.tenant_id().empty() &&
        in.credential_case() != utmstack_azure::config::Workspace::kWorkloadIdentity) {
      return FieldError(field + ".tenant_id",
                        "missing; copy the Directory (tenant) ID from Entra ID's overview");
    }
    if (needs_app && in.client_id().empty() &&
        in.credential_case() != utmstack_azure::config::Workspace::kWorkloadIdentity) {
      return FieldError(field + ".client_id",
                        "missing; copy the Application (client) ID from the app registration");
    }
    switch (in.credential_case()) {
      case utmstack_azure::config::Workspace::CREDENTIAL_NOT_SET:
        return FieldError(field, "no credential; set exactly one of client_secret_file, "
                                 "client_secret_env, certificate_file, managed_identity, "
                                 "workload_identity");
      case utmstack_azure::config::Workspace::kClientSecretFile:
        if (in.client_secret_file().empty())
          return FieldError(field + ".client_secret_file", "is empty; name the secret's file");
        break;
      case utmstack_azure::config::Workspace::kClientSecretEnv:
        if (in.client_secret_env().empty())
          return FieldError(field + ".client_secret_env",
                            "is empty; name the environment variable holding the secret");
        break;
      case utmstack_azure::config::Workspace::kCertificateFile:
        if (in.certificate_file().file().empty())
          return FieldError(field + ".certificate_file.file",
                            "is empty; name the PEM file with the key and certificate");
        break;
      default:
        break;
    }
    const std::string& cloud = in.cloud();
    if (cloud.empty()) {
      ws.proto.set_cloud("AzurePublic");
    } else if (cloud == "Custom") {
      for (auto [key, value] : {std::pair<const char*, const std::string*>{"authority_host", &in.authority_host()},
                                {"query_host", &in.query_host()},
                                {"scope", &in.scope()}}) {
        if (value->empty()) {
          return FieldError(absl::StrCat(field, ".", key),
                            "missing; a Custom cloud needs authority_host, query_host and scope");
        }
      }
    } else if (cloud != "AzurePublic" && cloud != "AzureUSGovernment" && cloud != "AzureChina") {
      return FieldError(field + ".cloud",
                        absl::StrCat("\"", cloud, "\" is not one of AzurePublic, "
                                     "AzureUSGovernment, AzureChina, Custom"));
    }
    auto poll = ParseDurationField(field + ".poll_interval", in.poll_interval(),
                                   absl::Seconds(60), absl::Seconds(1));
    if (!poll.ok()) return poll.status();
    ws.poll_interval = *poll;
    auto settle = ParseDurationField(field + ".settle_delay", in.settle_delay(),
                                     absl::Minutes(2), absl::ZeroDuration());
    if (!settle.ok()) return settle.status();
    ws.settle_delay = *settle;
    auto lookback = ParseDurationField(field + ".lookback", in.lookback(), absl::Hours(48),
                                       absl::ZeroDuration());
    if (!lookback.ok()) return lookback.status();
    ws.lookback = *lookback;
    if (!in.start_at().empty() && in.start_at() != "now") {
      std::string err;
      if (!absl::ParseTime(absl::RFC3339_full, in.start_at(), &ws.start_at, &err)) {
        return FieldError(field + ".start_at",
                          absl::StrCat("\"", in.start_at(),
                                       "\" is neither \"now\" nor an RFC 3339 time such as "
                                       "2024-01-01T00:00:00Z"));
      }
    }
    if (in.queries_size() == 0) {
      return FieldError(field + ".queries",
                        "empty; list preset names (e.g. \"SigninLogs\") or custom queries");
    }
    absl::flat_hash_set<std::string> query_names;
    for (int q = 0; q < in.queries_size(); ++q) {
      const auto& spec = in.queries(q);
      const std::string qfield = absl::StrCat(field, ".queries[", q, "]");
      QuerySettings query;
      if (spec.kind_case() == utmstack_azure::config::QuerySpec::kPreset) {
        if (spec.preset().empty()) return FieldError(qfield + ".preset", "is empty");
        query.name = spec.preset();
        query.preset = spec.preset();
      } else if (spec.kind_case() == utmstack_azure::config::QuerySpec::kCustom) {
        if (spec.custom().name().empty())
          return FieldError(qfield + ".custom.name", "missing; name the query");
        if (spec.custom().kql().empty())
          return FieldError(qfield + ".custom.kql", "missing; write the KQL");
        query.name = spec.custom().name();
        query.kql = spec.custom().kql();
        query.data_type = spec.custom().data_type();
      } else {
        return FieldError(qfield, "set either preset or custom");
      }
      for (char c : query.name) {
        if (!(absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.')) {
          return FieldError(qfield, absl::StrCat("name \"", query.name,
                                                 "\" may contain only letters, digits, '-', "
                                                 "'_' and '.'"));
        }
      }
      if (!query_names.insert(query.name).second) {
        return FieldError(qfield, absl::StrCat("query \"", query.name, "\" is listed twice"));
      }
      const std::string pair = absl::StrCat("workspace \"", in.name(), "\", query \"",
                                            query.name, "\"");
      const auto [file, added] =
          checkpoint_files.emplace(absl::StrCat(in.name(), ".", query.name), pair);
      if (!added) {
        return FieldError(qfield, absl::StrCat(
            pair, " and ", file->second, " would share the checkpoint file ", file->first,
            ".json: rename one of them (the dots in the names meet)"));
      }
      ws.queries.push_back(std::move(query));
    }
    settings.workspaces.push_back(std::move(ws));
  }
  return settings;
}

// Reads the file at `path`, parses and resolves it. kNotFound when the file cannot be
// read, kInvalidArgument for a bad value (naming the field).
inline absl::StatusOr<Settings> LoadSettings(const std::string& path, const Env& env,
                                             const Overrides& overrides = {}) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read config file ", path,
                                            ": check the path and its permissions"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto config = ParseConfigJson(buffer.str(), path);
  if (!config.ok()) return config.status();
  return ResolveSettings(*config, env, overrides);
}

}  // namespace plugin_main

#endif  // PLUGIN_MAIN_CONFIG_H_
