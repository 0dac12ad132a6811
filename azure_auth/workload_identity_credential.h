// File: azure_auth/workload_identity_credential.h
//
// Kubernetes workload identity (Azure AD Workload Identity, AKS): the cluster mounts
// a short-lived service account token in a file and rotates it; Entra ID accepts it
// as a client assertion for an app (or user-assigned identity) federated with that
// service account. The file is re-read on every token request.
//
// The webhook sets AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TENANT_ID and
// AZURE_AUTHORITY_HOST in the pod; `WorkloadIdentityCredential::FromEnvironment`
// fills whatever the configuration left empty from them.
//
// Example:
//   absl::StatusOr<std::shared_ptr<azure_auth::WorkloadIdentityCredential>> credential =
//       azure_auth::WorkloadIdentityCredential::FromEnvironment(
//           azure_auth::ProcessEnvironment(), {}, azure_auth::AzurePublic(),
//           transport, common::SystemClock());
//   if (!credential.ok()) return credential.status();  // names the missing variable
//   absl::StatusOr<azure_auth::AccessToken> token =
//       (*credential)->GetToken("https://api.loganalytics.io/.default");
//
// Status codes: FromEnvironment returns kFailedPrecondition naming every variable that is
// needed but unset. GetToken returns kInvalidArgument (bad ids, scope or cloud; empty
// token file), the file's kNotFound / kPermissionDenied, the transport's, and Entra ID's
// as ParseTokenError maps them (e.g. kUnauthenticated for AADSTS700024, a stale file).
//
// Thread-safe.
#ifndef AZURE_AUTH_WORKLOAD_IDENTITY_CREDENTIAL_H_
#define AZURE_AUTH_WORKLOAD_IDENTITY_CREDENTIAL_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "azure_auth/cloud.h"
#include "azure_auth/internal/token_request.h"
#include "azure_auth/secret_source.h"
#include "azure_auth/token_credential.h"
#include "common/clock.h"
#include "http/http_transport.h"

namespace azure_auth {

// What the configuration says; empty fields come from the environment.
struct WorkloadIdentitySettings {
  std::string tenant_id;         // else AZURE_TENANT_ID
  std::string client_id;         // else AZURE_CLIENT_ID
  std::string token_file;        // else AZURE_FEDERATED_TOKEN_FILE
  std::string authority_host;    // else AZURE_AUTHORITY_HOST, else the cloud's
};

class WorkloadIdentityCredential : public TokenCredential {
 public:
  // Nothing is checked here; GetToken reports bad settings.
  WorkloadIdentityCredential(std::string tenant_id, std::string client_id,
                             std::string token_file, CloudSettings cloud,
                             std::shared_ptr<http::HttpTransport> transport,
                             common::Clock clock = common::SystemClock())
      : tenant_id_(std::move(tenant_id)),
        client_id_(std::move(client_id)),
        token_file_(std::move(token_file)),
        cloud_(std::move(cloud)),
        transport_(std::move(transport)),
        clock_(std::move(clock)) {}

  // Completes `settings` from `env` (see WorkloadIdentitySettings) and makes the
  // credential. Errors: kFailedPrecondition naming every variable that is needed
  // but unset. Thread-safe if `env` is.
  static absl::StatusOr<std::shared_ptr<WorkloadIdentityCredential>> FromEnvironment(
      const EnvLookup& env, WorkloadIdentitySettings settings, CloudSettings cloud,
      std::shared_ptr<http::HttpTransport> transport,
      common::Clock clock = common::SystemClock()) {
    std::vector<std::string> missing;
    auto fill = [&](std::string* field, const char* variable) {
      if (!field->empty()) return;
      std::optional<std::string> value = env(variable);
      if (value.has_value() && !value->empty()) {
        *field = *value;
      } else {
        missing.push_back(variable);
      }
    };
    fill(&settings.tenant_id, "AZURE_TENANT_ID");
    fill(&settings.client_id, "AZURE_CLIENT_ID");
    fill(&settings.token_file, "AZURE_FEDERATED_TOKEN_FILE");
    if (!missing.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "workload identity is not set up: ", absl::StrJoin(missing, ", "),
          missing.size() == 1 ? " is" : " are",
          " not set (the Azure Workload Identity webhook sets them in pods labelled "
          "azure.workload.identity/use: \"true\"; or configure the values)"));
    }
    if (settings.authority_host.empty()) {
      if (std::optional<std::string> host = env("AZURE_AUTHORITY_HOST");
          host.has_value() && !host->empty()) {
        settings.authority_host = *host;
      }
    }
    if (!settings.authority_host.empty()) cloud.authority_host = settings.authority_host;
    return std::make_shared<WorkloadIdentityCredential>(
        std::move(settings.tenant_id), std::move(settings.client_id),
        std::move(settings.token_file), std::move(cloud), std::move(transport),
        std::move(clock));
  }

  // Reads the federated token file and exchanges it for a token for `scope`.
  // Errors: kInvalidArgument (bad ids, scope or cloud; empty file), the file's
  // errors (kNotFound, kPermissionDenied), the transport's, and Entra ID's mapped by
  // ParseTokenError (e.g. 700024 when the file is stale). Never contains the
  // federated token. Thread-safe.
  absl::StatusOr<AccessToken> GetToken(absl::string_view scope) override {
    using azure_auth_internal::Annotate;
    for (const absl::Status& check :
         {azure_auth_internal::ValidateTenantId(tenant_id_),
          azure_auth_internal::ValidateClientId(client_id_),
          azure_auth_internal::ValidateScope(scope), ValidateCloud(cloud_)}) {
      if (!check.ok()) return Annotate(check, Describe());
    }
    if (transport_ == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(Describe(), ": no transport"));
    }
    SecretFileOptions options;
    options.what = "federated token file";
    absl::StatusOr<std::string> assertion = ReadSecretFile(token_file_, options);
    if (!assertion.ok()) return Annotate(assertion.status(), Describe());
    azure_auth_internal::TokenRequest request;
    request.url = TokenEndpoint(cloud_, tenant_id_);
    request.form = {
        {"grant_type", "client_credentials"},
        {"client_id", client_id_},
        {"scope", std::string(scope)},
        {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
        {"client_assertion", *assertion}};
    request.sensitive = {*assertion};
    request.context = Describe();
    return azure_auth_internal::SendTokenRequest(*transport_, clock_, request);
  }

  // "workload identity credential (app <client id>, tenant <tenant>, token file
  // <path>, authority <host>)". Thread-safe.
  std::string Describe() const override {
    return absl::StrCat("workload identity credential (app ",
                        azure_auth_internal::Sanitize(client_id_, 64), ", tenant ",
                        azure_auth_internal::Sanitize(tenant_id_, 64), ", token file ",
                        azure_auth_internal::Sanitize(token_file_, 256), ", authority ",
                        http::HostOf(AuthorityUrl(cloud_)), ")");
  }

 private:
  const std::string tenant_id_;
  const std::string client_id_;
  const std::string token_file_;
  const CloudSettings cloud_;
  const std::shared_ptr<http::HttpTransport> transport_;
  const common::Clock clock_;
};

}  // namespace azure_auth

#endif  // AZURE_AUTH_WORKLOAD_IDENTITY_CREDENTIAL_H_
