// File: plugin_main/runtime.h
//
// Turns resolved Settings into live parts: one curl transport per CA bundle, one cached
// credential per workspace, one per-identity limiter shared by every workspace of an app
// registration, one QueryClient per workspace, and paginator options per query. The
// binary's subcommands (run, check, backfill) all build their parts here, and so can
// another team's binary.
//
// Example:
//   plugin_main::Runtime runtime(settings, log);
//   ASSIGN_OR_RETURN(plugin_main::WorkspaceParts parts, runtime.Workspace(settings.workspaces[0]));
//   ASSIGN_OR_RETURN(loganalytics::PaginatorOptions options,
//                    runtime.PaginatorOptionsFor(settings.workspaces[0], query));
//
// Status codes: kInvalidArgument for settings the factories reject (naming the field),
// kNotFound for an unknown preset. Thread-safe.
#ifndef PLUGIN_MAIN_RUNTIME_H_
#define PLUGIN_MAIN_RUNTIME_H_

#include <map>
#include <optional>
#include <vector>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "azure_auth/cloud.h"
#include "azure_auth/credential_factory.h"
#include "azure_auth/token_credential.h"
#include "common/clock.h"
#include "common/json_log.h"
#include "http/curl_transport.h"
#include "loganalytics/identity_limiter.h"
#include "loganalytics/paginator.h"
#include "loganalytics/presets.h"
#include "loganalytics/query_client.h"
#include "loganalytics/sleeper.h"
#include "plugin_main/config.h"
#include "plugin_main/logging_transport.h"

namespace plugin_main {

struct WorkspaceParts {
  std::shared_ptr<http::HttpTransport> transport;
  std::shared_ptr<azure_auth::TokenCredential> credential;
  std::shared_ptr<loganalytics::QueryClient> client;
  azure_auth::CloudSettings cloud;
};

// A limiter registry (default budgets, real time) whose waits for a permit end with
// kCancelled when `stop` is requested: during a 429 storm a query can wait minutes for a
// permit, and a process shutting down must not. Pass the same signal as
// CollectorOptions::stop, so that the collector takes the kCancelled for a stop, not an
// error.
inline std::shared_ptr<loganalytics::IdentityLimiterRegistry> StoppableLimiters(
    std::shared_ptr<const loganalytics::StopSignal> stop) {
  loganalytics::IdentityLimiterOptions options;
  options.stop = stop;
  return std::make_shared<loganalytics::IdentityLimiterRegistry>(
      options, common::SystemClock(), loganalytics::InterruptibleSleeper(stop));
}

class Runtime {
 public:
  // `limiters` is shared by every Runtime of the process (config reloads make new
  // Runtimes) so that one identity keeps one budget; null makes a private registry.
  Runtime(Settings settings, std::shared_ptr<common::JsonLogger> log,
          common::Clock clock = common::SystemClock(),
          std::shared_ptr<loganalytics::IdentityLimiterRegistry> limiters = nullptr)
      : settings_(std::move(settings)),
        log_(std::move(log)),
        clock_(std::move(clock)),
        limiters_(limiters != nullptr
                      ? std::move(limiters)
                      : std::make_shared<loganalytics::IdentityLimiterRegistry>()) {}

  const Settings& settings() const { return settings_; }

  // The cloud endpoints of a workspace.
  static absl::StatusOr<azure_auth::CloudSettings> CloudFor(const WorkspaceSettings& ws) {
    if (ws.proto.cloud() == "Custom") {
      return azure_auth::CustomCloud(ws.proto.authority_host(), ws.proto.query_host(),
                                     ws.proto.scope());
    }
    return azure_auth::CloudByName(ws.proto.cloud().empty() ? "AzurePublic" : ws.proto.cloud());
  }

  // The credential settings of a workspace, in the factory's terms.
  static azure_auth::CredentialConfig CredentialConfigFor(const WorkspaceSettings& ws,
                                                          const azure_auth::CloudSettings& cloud) {
    using utmstack_azure::config::Workspace;
    azure_auth::CredentialConfig c;
    c.tenant_id = ws.proto.tenant_id();
    c.client_id = ws.proto.client_id();
    c.cloud = cloud;
    if (!ws.inline_secret.empty()) {
      c.kind = azure_auth::CredentialKind::kClientSecretValue;
      c.secret_value = ws.inline_secret;
      return c;
    }
    switch (ws.proto.credential_case()) {
      case Workspace::kClientSecretFile:
        c.kind = azure_auth::CredentialKind::kClientSecretFile;
        c.path = ws.proto.client_secret_file();
        break;
      case Workspace::kClientSecretEnv:
        c.kind = azure_auth::CredentialKind::kClientSecretEnv;
        c.env_name = ws.proto.client_secret_env();
        break;
      case Workspace::kCertificateFile:
        c.kind = azure_auth::CredentialKind::kCertificateFile;
        c.path = ws.proto.certificate_file().file();
        break;
      case Workspace::kManagedIdentity:
        c.kind = azure_auth::CredentialKind::kManagedIdentity;
        c.managed_identity_client_id = ws.proto.managed_identity().client_id();
        c.imds_endpoint = ws.proto.managed_identity().endpoint();
        break;
      case Workspace::kWorkloadIdentity:
        c.kind = azure_auth::CredentialKind::kWorkloadIdentity;
        c.path = ws.proto.workload_identity().token_file();
        break;
      default:
        c.kind = azure_auth::CredentialKind::kDefault;
    }
    return c;
  }

  // Builds (or returns the already built) transport, credential and client of `ws`.
  absl::StatusOr<WorkspaceParts> Workspace(const WorkspaceSettings& ws) {
    absl::MutexLock lock(&mu_);
    WorkspaceParts parts;
    absl::StatusOr<azure_auth::CloudSettings> cloud = CloudFor(ws);
    if (!cloud.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("workspace ", ws.proto.name(), ": ", cloud.status().message()));
    }
    parts.cloud = *cloud;
    std::shared_ptr<http::HttpTransport>& transport = transports_[ws.proto.ca_file()];
    if (transport == nullptr) {
      http::CurlTransport::Options options;
      options.ca_file = ws.proto.ca_file();
      transport = std::make_shared<http::CurlTransport>(options);
    }
    parts.transport = transport;
    azure_auth::CredentialConfig credential_config = CredentialConfigFor(ws, parts.cloud);
    std::shared_ptr<common::JsonLogger> log = log_;
    const std::string name = ws.proto.name();
    credential_config.on_warning = [log, name](absl::string_view warning) {
      log->Warning(warning, {{"workspace", name}});
    };
    auto credential = azure_auth::MakeCredential(credential_config, transport, clock_);
    if (!credential.ok()) {
      return absl::Status(credential.status().code(),
                          absl::StrCat("workspace ", name, ": ", credential.status().message()));
    }
    parts.credential = *credential;
    loganalytics::QueryClientOptions client_options;
    client_options.query_host = azure_auth::QueryUrl(parts.cloud);
    client_options.scope = parts.cloud.scope;
    client_options.clock = clock_;
    client_options.limiter = limiters_->Get(
        ws.proto.tenant_id(), ws.proto.client_id().empty()
                                  ? absl::StrCat("identity:", azure_auth::CredentialKindName(
                                                                  credential_config.kind))
                                  : ws.proto.client_id());
    // Queries go through a LoggingTransport: the client retries throttling and server
    // errors silently, and each of them deserves a line.
    parts.client = std::make_shared<loganalytics::QueryClient>(
        std::make_shared<LoggingTransport>(transport, log_, name), parts.credential,
        client_options);
    return parts;
  }

  // What one query reads: the preset's or the custom KQL, and how its Logs look.
  absl::StatusOr<loganalytics::PaginatorOptions> PaginatorOptionsFor(
      const WorkspaceSettings& ws, const QuerySettings& query) const {
    loganalytics::PaginatorOptions options;
    options.workspace_id = ws.proto.workspace_id();
    options.name = query.name;
    options.convert.data_type = "azure";
    if (!query.preset.empty()) {
      std::optional<loganalytics::Preset> preset = loganalytics::FindPreset(query.preset);
      if (!preset.has_value()) {
        std::vector<std::string> names;
        for (const loganalytics::Preset& p : loganalytics::AllPresets()) names.push_back(p.name);
        return absl::NotFoundError(absl::StrCat(
            "workspace ", ws.proto.name(), ": unknown preset \"", query.preset,
            "\"; choose one of ", absl::StrJoin(names, ", ")));
      }
      options.base_query = preset->kql;
      options.has_item_id = preset->has_item_id;
      if (!preset->data_type.empty()) options.convert.data_type = preset->data_type;
    } else {
      options.base_query = query.kql;
    }
    if (!query.data_type.empty()) options.convert.data_type = query.data_type;
    options.settle = ws.settle_delay;
    options.lookback = ws.lookback;
    options.convert.workspace_id = ws.proto.workspace_id();
    options.convert.data_source = ws.proto.name();
    options.convert.tenant_id = settings_.tenant_id;
    options.convert.clock = clock_;
    return options;
  }

 private:
  const Settings settings_;
  std::shared_ptr<common::JsonLogger> log_;
  common::Clock clock_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<http::HttpTransport>> transports_;
  std::shared_ptr<loganalytics::IdentityLimiterRegistry> limiters_;
};

}  // namespace plugin_main

#endif  // PLUGIN_MAIN_RUNTIME_H_
