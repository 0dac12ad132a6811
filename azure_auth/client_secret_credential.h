// File: azure_auth/client_secret_credential.h
//
// An Entra ID application authenticating with a client secret (OAuth 2.0 client
// credentials grant). The secret comes from a SecretProvider on every token request,
// so rotating the secret file takes effect at the next refresh; the credential never
// keeps it.
//
// Example:
//   auto credential = std::make_shared<azure_auth::ClientSecretCredential>(
//       tenant_id, client_id, azure_auth::FileSecret("/etc/connector/secret"),
//       azure_auth::AzurePublic(), transport, common::SystemClock());
//   absl::StatusOr<azure_auth::AccessToken> token =
//       credential->GetToken("https://api.loganalytics.io/.default");
//   // kUnauthenticated "... AADSTS7000222 ... the client secret has expired ..."
//
// Wrap it in a TokenCache: every GetToken here is a round trip to Entra ID.
//
// Status codes (GetToken): kInvalidArgument (bad tenant id, client id, scope or cloud),
// the secret provider's (e.g. kNotFound for a missing secret file), the transport's
// (kUnavailable, kDeadlineExceeded), and Entra ID's as ParseTokenError maps them
// (kUnauthenticated, kNotFound, kPermissionDenied, kResourceExhausted). Messages never
// contain the secret.
//
// Thread-safe.
#ifndef AZURE_AUTH_CLIENT_SECRET_CREDENTIAL_H_
#define AZURE_AUTH_CLIENT_SECRET_CREDENTIAL_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "azure_auth/cloud.h"
#include "azure_auth/internal/token_request.h"
#include "azure_auth/secret_source.h"
#include "azure_auth/token_credential.h"
#include "common/clock.h"
#include "http/http_transport.h"

namespace azure_auth {

class ClientSecretCredential : public TokenCredential {
 public:
  // `secret` is asked once per token request. Nothing is checked here; GetToken
  // reports bad settings.
  ClientSecretCredential(std::string tenant_id, std::string client_id,
                         SecretProvider secret, CloudSettings cloud,
                         std::shared_ptr<http::HttpTransport> transport,
                         common::Clock clock = common::SystemClock())
      : tenant_id_(std::move(tenant_id)),
        client_id_(std::move(client_id)),
        secret_(std::move(secret)),
        cloud_(std::move(cloud)),
        transport_(std::move(transport)),
        clock_(std::move(clock)) {}

  // Requests a token for `scope` from the tenant's token endpoint.
  // Errors: kInvalidArgument (bad tenant id, client id, scope or cloud), the secret
  // provider's errors (e.g. kNotFound for a missing secret file), the transport's
  // (kUnavailable, kDeadlineExceeded), and Entra ID's mapped by ParseTokenError
  // (kUnauthenticated, kNotFound, kPermissionDenied, kResourceExhausted, ...). The
  // message starts with Describe() and never contains the secret. Thread-safe.
  absl::StatusOr<AccessToken> GetToken(absl::string_view scope) override {
    using azure_auth_internal::Annotate;
    for (const absl::Status& check :
         {azure_auth_internal::ValidateTenantId(tenant_id_),
          azure_auth_internal::ValidateClientId(client_id_),
          azure_auth_internal::ValidateScope(scope), ValidateCloud(cloud_)}) {
      if (!check.ok()) return Annotate(check, Describe());
    }
    if (!secret_ || transport_ == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(Describe(), ": no secret source or transport configured"));
    }
    absl::StatusOr<std::string> secret = secret_();
    if (!secret.ok()) {
      return Annotate(secret.status(),
                      absl::StrCat(Describe(), ": cannot read the client secret"));
    }
    azure_auth_internal::TokenRequest request;
    request.url = TokenEndpoint(cloud_, tenant_id_);
    request.form = {{"grant_type", "client_credentials"},
                    {"client_id", client_id_},
                    {"scope", std::string(scope)},
                    {"client_secret", *secret}};
    request.sensitive = {*secret};
    request.context = Describe();
    return azure_auth_internal::SendTokenRequest(*transport_, clock_, request);
  }

  // "client secret credential (app <client id>, tenant <tenant>, authority <host>)".
  // Thread-safe.
  std::string Describe() const override {
    return absl::StrCat("client secret credential (app ",
                        azure_auth_internal::Sanitize(client_id_, 64), ", tenant ",
                        azure_auth_internal::Sanitize(tenant_id_, 64), ", authority ",
                        http::HostOf(AuthorityUrl(cloud_)), ")");
  }

 private:
  const std::string tenant_id_;
  const std::string client_id_;
  const SecretProvider secret_;
  const CloudSettings cloud_;
  const std::shared_ptr<http::HttpTransport> transport_;
  const common::Clock clock_;
};

}  // namespace azure_auth

#endif  // AZURE_AUTH_CLIENT_SECRET_CREDENTIAL_H_
