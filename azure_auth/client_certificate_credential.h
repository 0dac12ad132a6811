// File: azure_auth/client_certificate_credential.h
//
// An Entra ID application authenticating with a certificate: each token request
// carries a fresh RS256 JWT client assertion (client_assertion.h) signed with the
// certificate's private key. The PEM text (key + certificate) is read from its
// provider on every request, so a renewed certificate file is used at the next
// refresh.
//
// Example:
//   auto credential = std::make_shared<azure_auth::ClientCertificateCredential>(
//       tenant_id, client_id,
//       azure_auth::CertificateFile("/etc/connector/app.pem", on_warning),
//       azure_auth::AzurePublic(), transport, common::SystemClock());
//   absl::StatusOr<azure_auth::AccessToken> token =
//       credential->GetToken("https://api.loganalytics.io/.default");
//   // kUnauthenticated "... AADSTS700027 ... upload this certificate ... thumbprint
//   // 3A1F..." when Entra ID does not know the certificate.
//
// Wrap it in a TokenCache: every GetToken here is a round trip to Entra ID.
//
// Status codes (GetToken): kInvalidArgument (bad ids, scope, cloud or PEM content), the
// PEM provider's (kNotFound, kPermissionDenied for the file), the transport's
// (kUnavailable, kDeadlineExceeded), and Entra ID's as ParseTokenError maps them
// (kUnauthenticated, kNotFound, kPermissionDenied, kResourceExhausted). Messages never
// contain key material or the assertion.
//
// Thread-safe.
#ifndef AZURE_AUTH_CLIENT_CERTIFICATE_CREDENTIAL_H_
#define AZURE_AUTH_CLIENT_CERTIFICATE_CREDENTIAL_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "azure_auth/client_assertion.h"
#include "azure_auth/cloud.h"
#include "azure_auth/internal/token_request.h"
#include "azure_auth/secret_source.h"
#include "azure_auth/token_credential.h"
#include "common/clock.h"
#include "http/http_transport.h"

namespace azure_auth {

// A provider reading the PEM file at `path` (key + certificate) on every call, with
// the errors and the permission warning of FileSecret, naming it "certificate file".
// Thread-safe.
inline SecretProvider CertificateFile(std::string path, WarningSink on_warning = nullptr) {
  SecretFileOptions options;
  options.what = "certificate file";
  options.trim_trailing_newline = false;
  return FileSecret(std::move(path), std::move(on_warning), std::move(options));
}

class ClientCertificateCredential : public TokenCredential {
 public:
  // `pem` is asked once per token request for the PEM text holding the private key
  // and the certificate. Nothing is checked here; GetToken reports bad settings.
  ClientCertificateCredential(std::string tenant_id, std::string client_id,
                              SecretProvider pem, CloudSettings cloud,
                              std::shared_ptr<http::HttpTransport> transport,
                              common::Clock clock = common::SystemClock())
      : tenant_id_(std::move(tenant_id)),
        client_id_(std::move(client_id)),
        pem_(std::move(pem)),
        cloud_(std::move(cloud)),
        transport_(std::move(transport)),
        clock_(std::move(clock)) {}

  // Requests a token for `scope` with a client assertion signed now.
  // Errors: kInvalidArgument (bad ids, scope, cloud, or PEM content: see
  // ClientCertificate::FromPem), the PEM provider's errors (e.g. kNotFound for a
  // missing file), the transport's, and Entra ID's mapped by ParseTokenError. Entra
  // ID errors name the certificate's thumbprint. Never contains key material or the
  // assertion. Thread-safe.
  absl::StatusOr<AccessToken> GetToken(absl::string_view scope) override {
    using azure_auth_internal::Annotate;
    for (const absl::Status& check :
         {azure_auth_internal::ValidateTenantId(tenant_id_),
          azure_auth_internal::ValidateClientId(client_id_),
          azure_auth_internal::ValidateScope(scope), ValidateCloud(cloud_)}) {
      if (!check.ok()) return Annotate(check, Describe());
    }
    if (!pem_ || transport_ == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(Describe(), ": no certificate source or transport configured"));
    }
    absl::StatusOr<std::string> pem = pem_();
    if (!pem.ok()) {
      return Annotate(pem.status(),
                      absl::StrCat(Describe(), ": cannot read the certificate"));
    }
    absl::StatusOr<ClientCertificate> certificate = ClientCertificate::FromPem(*pem);
    if (!certificate.ok()) {
      return Annotate(certificate.status(),
                      absl::StrCat(Describe(), ": unusable certificate PEM"));
    }
    const std::string url = TokenEndpoint(cloud_, tenant_id_);
    absl::StatusOr<std::string> assertion =
        BuildClientAssertion(*certificate, client_id_, url, clock_());
    if (!assertion.ok()) return Annotate(assertion.status(), Describe());
    azure_auth_internal::TokenRequest request;
    request.url = url;
    request.form = {
        {"grant_type", "client_credentials"},
        {"client_id", client_id_},
        {"scope", std::string(scope)},
        {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
        {"client_assertion", *assertion}};
    request.sensitive = {*assertion};
    request.context = absl::StrCat(Describe(), " with certificate thumbprint ",
                                   certificate->ThumbprintHex());
    return azure_auth_internal::SendTokenRequest(*transport_, clock_, request);
  }

  // "client certificate credential (app <client id>, tenant <tenant>, authority
  // <host>)". Thread-safe.
  std::string Describe() const override {
    return absl::StrCat("client certificate credential (app ",
                        azure_auth_internal::Sanitize(client_id_, 64), ", tenant ",
                        azure_auth_internal::Sanitize(tenant_id_, 64), ", authority ",
                        http::HostOf(AuthorityUrl(cloud_)), ")");
  }

 private:
  const std::string tenant_id_;
  const std::string client_id_;
  const SecretProvider pem_;
  const CloudSettings cloud_;
  const std::shared_ptr<http::HttpTransport> transport_;
  const common::Clock clock_;
};

}  // namespace azure_auth

#endif  // AZURE_AUTH_CLIENT_CERTIFICATE_CREDENTIAL_H_
