// File: azure_auth/cloud.h
//
// Which Azure cloud to talk to: the Entra ID authority that issues tokens, the Log
// Analytics query host, and the scope a token is requested for. The public cloud, US
// Government and China (21Vianet) are built in; `CustomCloud` takes all three values,
// for private endpoints and for tests that point the client at a loopback fake
// ("https://127.0.0.1:PORT").
//
// Hosts may be given bare ("login.microsoftonline.com") or as an origin with a scheme
// and port ("https://127.0.0.1:8443"); `AuthorityUrl` and `QueryUrl` turn either form
// into an origin without a trailing slash.
//
// Example:
//   absl::StatusOr<azure_auth::CloudSettings> cloud =
//       azure_auth::CloudByName(config.cloud);          // "AzurePublic", ...
//   if (!cloud.ok()) return cloud.status();            // names the valid choices
//   std::string token_url = azure_auth::TokenEndpoint(*cloud, tenant_id);
//   std::string query_url =
//       azure_auth::QueryUrl(*cloud) + "/v1/workspaces/" + workspace + "/query";
//
// Everything here is a pure function over values: thread-safe.
#ifndef AZURE_AUTH_CLOUD_H_
#define AZURE_AUTH_CLOUD_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace azure_auth_internal {

// "host" -> "https://host"; "https://host:1/" -> "https://host:1".
inline std::string Origin(absl::string_view host) {
  host = absl::StripAsciiWhitespace(host);
  while (absl::ConsumeSuffix(&host, "/")) {
  }
  if (absl::StrContains(host, "://")) return std::string(host);
  return absl::StrCat("https://", host);
}

}  // namespace azure_auth_internal

namespace azure_auth {

struct CloudSettings {
  // Entra ID authority, e.g. "login.microsoftonline.com" or "https://127.0.0.1:8443".
  std::string authority_host;
  // Log Analytics query API host, e.g. "api.loganalytics.io".
  std::string query_host;
  // The scope tokens are requested for, e.g. "https://api.loganalytics.io/.default".
  std::string scope;
};

// The Azure public cloud. Thread-safe.
inline CloudSettings AzurePublic() {
  return {"login.microsoftonline.com", "api.loganalytics.io",
          "https://api.loganalytics.io/.default"};
}

// Azure US Government. Thread-safe.
inline CloudSettings AzureUSGovernment() {
  return {"login.microsoftonline.us", "api.loganalytics.us",
          "https://api.loganalytics.us/.default"};
}

// Azure China (operated by 21Vianet). Thread-safe.
inline CloudSettings AzureChina() {
  return {"login.chinacloudapi.cn", "api.loganalytics.azure.cn",
          "https://api.loganalytics.azure.cn/.default"};
}

// A cloud given explicitly. No checks happen here; `ValidateCloud` reports what is
// wrong with the values. Thread-safe.
inline CloudSettings CustomCloud(std::string authority_host,
                                 std::string query_host, std::string scope) {
  return {std::move(authority_host), std::move(query_host), std::move(scope)};
}

// Returns the built-in cloud called `name`: "AzurePublic" (also "AzureCloud"),
// "AzureUSGovernment", "AzureChina" (also "AzureChinaCloud"); case-insensitive.
// Errors: kInvalidArgument naming the valid choices. Thread-safe.
inline absl::StatusOr<CloudSettings> CloudByName(absl::string_view name) {
  std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
  if (key == "azurepublic" || key == "azurecloud") return AzurePublic();
  if (key == "azureusgovernment") return AzureUSGovernment();
  if (key == "azurechina" || key == "azurechinacloud") return AzureChina();
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown Azure cloud \"", absl::CHexEscape(name.substr(0, 64)),
      "\": use one of AzurePublic, AzureUSGovernment, AzureChina, or give "
      "authority_host, query_host and scope for a custom cloud"));
}


// The authority origin, e.g. "https://login.microsoftonline.com". Thread-safe.
inline std::string AuthorityUrl(const CloudSettings& cloud) {
  return azure_auth_internal::Origin(cloud.authority_host);
}

// The Log Analytics origin, e.g. "https://api.loganalytics.io". Thread-safe.
inline std::string QueryUrl(const CloudSettings& cloud) {
  return azure_auth_internal::Origin(cloud.query_host);
}

// The OAuth 2.0 v2 token endpoint of `tenant_id` in `cloud`:
// "https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token". The tenant is not
// checked here (see ValidateTenantId). Thread-safe.
inline std::string TokenEndpoint(const CloudSettings& cloud,
                                 absl::string_view tenant_id) {
  return absl::StrCat(AuthorityUrl(cloud), "/", tenant_id, "/oauth2/v2.0/token");
}

// The resource a scope names ("https://api.loganalytics.io/.default" ->
// "https://api.loganalytics.io"), as managed identity endpoints want it. Thread-safe.
inline std::string ScopeToResource(absl::string_view scope) {
  absl::string_view resource = absl::StripAsciiWhitespace(scope);
  absl::ConsumeSuffix(&resource, "/.default");
  return std::string(resource);
}

// Checks that the cloud's values are usable: both hosts given, an https authority (a
// client secret travels to it), and a scope that names exactly one resource.
// Errors: kInvalidArgument saying which value is wrong. Thread-safe.
inline absl::Status ValidateCloud(const CloudSettings& cloud) {
  for (const auto& [what, value] :
       {std::pair<const char*, const std::string*>{"authority_host",
                                                   &cloud.authority_host},
        {"query_host", &cloud.query_host},
        {"scope", &cloud.scope}}) {
    if (absl::StripAsciiWhitespace(*value).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cloud setting ", what, " is empty: pick a built-in cloud "
          "(AzurePublic, AzureUSGovernment, AzureChina) or give all three of "
          "authority_host, query_host and scope"));
    }
  }
  if (!absl::StartsWith(AuthorityUrl(cloud), "https://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cloud authority_host \"", absl::CHexEscape(cloud.authority_host),
        "\" is not https: credentials are only sent over TLS; use an https:// "
        "origin or a bare host name"));
  }
  absl::string_view scope = absl::StripAsciiWhitespace(cloud.scope);
  if (absl::StrContains(scope, " ")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cloud scope \"", absl::CHexEscape(scope),
        "\" names more than one resource: a client-credentials token covers "
        "exactly one, e.g. https://api.loganalytics.io/.default"));
  }
  return absl::OkStatus();
}

}  // namespace azure_auth

#endif  // AZURE_AUTH_CLOUD_H_
