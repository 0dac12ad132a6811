// File: azure_auth/default_azure_credential.h
//
// A credential for containers and VMs that finds its own configuration, in the order
// Azure's SDKs use:
//
//   1. environment        AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET
//                         (client secret) or + AZURE_CLIENT_CERTIFICATE_PATH (PEM)
//   2. workload identity  AZURE_FEDERATED_TOKEN_FILE + AZURE_CLIENT_ID + AZURE_TENANT_ID
//   3. managed identity   always possible: IMDS (or IDENTITY_ENDPOINT), with
//                         AZURE_CLIENT_ID as the user-assigned identity when set
//
// The first link whose variables are present is chosen when the credential is made,
// and used from then on: a configured link that fails reports its error rather than
// silently falling through to another identity. Describe() and every error say which
// link was chosen and why each other one was not. AZURE_AUTHORITY_HOST replaces the
// cloud's authority for links 1 and 2.
//
// Example:
//   azure_auth::DefaultCredentialOptions options;   // env: the process environment
//   auto credential = std::make_shared<azure_auth::DefaultAzureCredential>(
//       options, transport, common::SystemClock());
//   log.Info(credential->Describe());
//   // "default credential chain: using workload identity (AZURE_FEDERATED_TOKEN_FILE,
//   //  AZURE_CLIENT_ID and AZURE_TENANT_ID are set); environment: skipped
//   //  (AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH are not set); ..."
//
// Thread-safe.
//
// Status codes (GetToken): the chosen link's, with the same code (see that credential);
// the message starts with the chain summary.
#ifndef AZURE_AUTH_DEFAULT_AZURE_CREDENTIAL_H_
#define AZURE_AUTH_DEFAULT_AZURE_CREDENTIAL_H_

#include <functional>
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
#include "absl/time/time.h"
#include "azure_auth/client_certificate_credential.h"
#include "azure_auth/client_secret_credential.h"
#include "azure_auth/cloud.h"
#include "azure_auth/managed_identity_credential.h"
#include "azure_auth/secret_source.h"
#include "azure_auth/token_credential.h"
#include "azure_auth/workload_identity_credential.h"
#include "common/clock.h"
#include "http/http_transport.h"

namespace azure_auth {

struct DefaultCredentialOptions {
  // Where the variables come from; unset means the process environment.
  EnvLookup env;
  CloudSettings cloud = AzurePublic();
  // Managed identity link: a user-assigned client id (else AZURE_CLIENT_ID) and the
  // endpoint (else IDENTITY_ENDPOINT, else IMDS).
  std::string managed_identity_client_id;
  std::string imds_endpoint;
  ImdsRetryPolicy imds_retry;
  std::function<void(absl::Duration)> sleep;
  // Receives warnings such as a too-open certificate file.
  WarningSink on_warning;
};

class DefaultAzureCredential : public TokenCredential {
 public:
  // Why a link was or was not chosen.
  struct Link {
    std::string name;    // "environment", "workload identity", "managed identity"
    bool used = false;
    std::string reason;  // "AZURE_CLIENT_SECRET ... are not set", ...
  };

  // Reads the variables once and builds the chosen link. Never fails: a link with
  // bad values reports them from GetToken.
  DefaultAzureCredential(DefaultCredentialOptions options,
                         std::shared_ptr<http::HttpTransport> transport,
                         common::Clock clock = common::SystemClock()) {
    EnvLookup env = options.env ? options.env : ProcessEnvironment();
    auto get = [&](const char* name) -> std::optional<std::string> {
      std::optional<std::string> value = env(name);
      if (value.has_value() && value->empty()) return std::nullopt;
      return value;
    };
    auto missing = [](const std::vector<const char*>& names) {
      return absl::StrCat(absl::StrJoin(names, ", "),
                          names.size() == 1 ? " is" : " are", " not set");
    };
    CloudSettings app_cloud = options.cloud;
    if (std::optional<std::string> host = get("AZURE_AUTHORITY_HOST")) {
      app_cloud.authority_host = *host;
    }
    const std::optional<std::string> tenant = get("AZURE_TENANT_ID");
    const std::optional<std::string> client = get("AZURE_CLIENT_ID");

    // 1. Environment.
    {
      Link link{"environment", false, ""};
      std::optional<std::string> secret = get("AZURE_CLIENT_SECRET");
      std::optional<std::string> cert = get("AZURE_CLIENT_CERTIFICATE_PATH");
      std::vector<const char*> absent;
      if (!tenant) absent.push_back("AZURE_TENANT_ID");
      if (!client) absent.push_back("AZURE_CLIENT_ID");
      if (absent.empty() && (secret || cert)) {
        link.used = true;
        if (secret) {
          link.reason = "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are set";
          chosen_ = std::make_shared<ClientSecretCredential>(
              *tenant, *client, EnvSecret("AZURE_CLIENT_SECRET", env), app_cloud,
              transport, clock);
        } else {
          link.reason =
              "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_CERTIFICATE_PATH are set";
          chosen_ = std::make_shared<ClientCertificateCredential>(
              *tenant, *client, CertificateFile(*cert, options.on_warning), app_cloud,
              transport, clock);
        }
      } else {
        std::vector<std::string> why;
        if (!absent.empty()) why.push_back(missing(absent));
        if (!secret && !cert) {
          why.push_back("neither AZURE_CLIENT_SECRET nor AZURE_CLIENT_CERTIFICATE_PATH is set");
        }
        link.reason = absl::StrJoin(why, "; ");
      }
      links_.push_back(std::move(link));
    }
    // 2. Workload identity.
    {
      Link link{"workload identity", false, ""};
      std::optional<std::string> file = get("AZURE_FEDERATED_TOKEN_FILE");
      std::vector<const char*> absent;
      if (!file) absent.push_back("AZURE_FEDERATED_TOKEN_FILE");
      if (!client) absent.push_back("AZURE_CLIENT_ID");
      if (!tenant) absent.push_back("AZURE_TENANT_ID");
      if (!absent.empty()) {
        link.reason = missing(absent);
      } else if (chosen_ != nullptr) {
        link.reason = "also configured, but the environment link comes first";
      } else {
        link.used = true;
        link.reason =
            "AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID are set";
        chosen_ = std::make_shared<WorkloadIdentityCredential>(
            *tenant, *client, *file, app_cloud, transport, clock);
      }
      links_.push_back(std::move(link));
    }
    // 3. Managed identity.
    {
      Link link{"managed identity", false, ""};
      if (chosen_ != nullptr) {
        link.reason = "not needed, an earlier link is configured";
      } else {
        link.used = true;
        ManagedIdentityOptions mi;
        mi.client_id = !options.managed_identity_client_id.empty()
                           ? options.managed_identity_client_id
                           : client.value_or("");
        mi.endpoint = options.imds_endpoint;
        if (mi.endpoint.empty()) {
          if (std::optional<std::string> endpoint = get("IDENTITY_ENDPOINT")) {
            mi.endpoint = *endpoint;
            mi.identity_header = get("IDENTITY_HEADER").value_or("");
          }
        }
        mi.retry = options.imds_retry;
        mi.sleep = options.sleep;
        link.reason = absl::StrCat(
            "no earlier link is configured; ",
            mi.client_id.empty() ? "system-assigned identity"
                                 : "user-assigned identity from AZURE_CLIENT_ID",
            mi.endpoint.empty() ? " via IMDS" : " via the configured endpoint");
        if (!options.managed_identity_client_id.empty()) {
          link.reason = absl::StrCat("no earlier link is configured; user-assigned "
                                     "identity from the configuration");
        }
        chosen_ = std::make_shared<ManagedIdentityCredential>(std::move(mi), transport,
                                                              clock);
      }
      links_.push_back(std::move(link));
    }
    for (const Link& link : links_) {
      if (link.used) chosen_name_ = link.name;
    }
  }

  // Gets a token from the chosen link. Errors: the chosen link's, with the same
  // code; the message starts with the chain summary (which link, and why not the
  // others). Thread-safe.
  absl::StatusOr<AccessToken> GetToken(absl::string_view scope) override {
    absl::StatusOr<AccessToken> token = chosen_->GetToken(scope);
    if (token.ok()) return token;
    return absl::Status(token.status().code(),
                        absl::StrCat(Summary(), ": ", token.status().message()));
  }

  // The chain summary followed by the chosen credential's description. Thread-safe.
  std::string Describe() const override {
    return absl::StrCat(Summary(), "; credential: ", chosen_->Describe());
  }

  // The name of the chosen link: "environment", "workload identity" or
  // "managed identity".
  const std::string& chosen_link() const { return chosen_name_; }
  // Every link, in order, with why it was or was not chosen.
  const std::vector<Link>& links() const { return links_; }
  // The chosen credential.
  const std::shared_ptr<TokenCredential>& chosen() const { return chosen_; }

 private:
  std::string Summary() const {
    std::string out = "default credential chain: using " + chosen_name_;
    for (const Link& link : links_) {
      if (link.used) absl::StrAppend(&out, " (", link.reason, ")");
    }
    for (const Link& link : links_) {
      if (!link.used) absl::StrAppend(&out, "; ", link.name, ": skipped (", link.reason, ")");
    }
    return out;
  }

  std::shared_ptr<TokenCredential> chosen_;
  std::string chosen_name_;
  std::vector<Link> links_;
};

}  // namespace azure_auth

#endif  // AZURE_AUTH_DEFAULT_AZURE_CREDENTIAL_H_
