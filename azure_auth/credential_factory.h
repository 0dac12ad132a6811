// File: azure_auth/credential_factory.h
//
// Builds the credential a configuration asks for, wrapped in a TokenCache, and checks
// up front what can be checked without Entra ID: ids, cloud, and that the secret,
// certificate or token file can be read (and the certificate parsed), so a wrong path
// fails at start-up with a message naming the field rather than at the first refresh.
//
// CredentialConfig is a plain struct: the binary maps its JSON/console configuration
// onto it.
//
// Example:
//   azure_auth::CredentialConfig config;
//   config.kind = azure_auth::CredentialKind::kClientSecretFile;
//   config.tenant_id = "72f988bf-...";
//   config.client_id = "3f2c5e1a-...";
//   config.path = "/etc/connector/azure-secret";
//   config.cloud = azure_auth::AzurePublic();
//   config.on_warning = [&](absl::string_view note) { log.Warning(note); };
//   absl::StatusOr<std::shared_ptr<azure_auth::TokenCredential>> credential =
//       azure_auth::MakeCredential(config, transport, common::SystemClock());
//   if (!credential.ok()) return credential.status();   // names the bad field
//   log.Info((*credential)->Describe());                  // no secrets in it
//
// Thread-safe (MakeCredential touches only its arguments and the named files).
#ifndef AZURE_AUTH_CREDENTIAL_FACTORY_H_
#define AZURE_AUTH_CREDENTIAL_FACTORY_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "azure_auth/client_assertion.h"
#include "azure_auth/client_certificate_credential.h"
#include "azure_auth/client_secret_credential.h"
#include "azure_auth/cloud.h"
#include "azure_auth/default_azure_credential.h"
#include "azure_auth/internal/token_request.h"
#include "azure_auth/managed_identity_credential.h"
#include "azure_auth/secret_source.h"
#include "azure_auth/token_cache.h"
#include "azure_auth/token_credential.h"
#include "azure_auth/workload_identity_credential.h"
#include "common/clock.h"
#include "http/http_transport.h"

namespace azure_auth {

enum class CredentialKind {
  kClientSecretFile,   // secret read from `path` (re-read at each refresh)
  kClientSecretEnv,    // secret read from the variable `env_name`
  kClientSecretValue,  // secret given in memory (`secret_value`), e.g. by a console
  kCertificateFile,    // PEM with key + certificate at `path`
  kManagedIdentity,    // IMDS (or `imds_endpoint`), `managed_identity_client_id`
  kWorkloadIdentity,   // federated token file `path` (else AZURE_FEDERATED_TOKEN_FILE)
  kDefault,            // environment -> workload identity -> managed identity
};

// "client_secret_file", "client_secret_env", "client_secret", "certificate_file",
// "managed_identity", "workload_identity", "default". Thread-safe.
inline absl::string_view CredentialKindName(CredentialKind kind) {
  switch (kind) {
    case CredentialKind::kClientSecretFile: return "client_secret_file";
    case CredentialKind::kClientSecretEnv: return "client_secret_env";
    case CredentialKind::kClientSecretValue: return "client_secret";
    case CredentialKind::kCertificateFile: return "certificate_file";
    case CredentialKind::kManagedIdentity: return "managed_identity";
    case CredentialKind::kWorkloadIdentity: return "workload_identity";
    case CredentialKind::kDefault: return "default";
  }
  return "unknown";
}

// The kind called `name` (as CredentialKindName spells it; case-insensitive).
// Errors: kInvalidArgument listing the valid names. Thread-safe.
inline absl::StatusOr<CredentialKind> CredentialKindByName(absl::string_view name) {
  std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
  for (CredentialKind kind :
       {CredentialKind::kClientSecretFile, CredentialKind::kClientSecretEnv,
        CredentialKind::kClientSecretValue, CredentialKind::kCertificateFile,
        CredentialKind::kManagedIdentity, CredentialKind::kWorkloadIdentity,
        CredentialKind::kDefault}) {
    if (key == CredentialKindName(kind)) return kind;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown credential kind \"", azure_auth_internal::Sanitize(name, 64),
      "\": use one of client_secret_file, client_secret_env, client_secret, "
      "certificate_file, managed_identity, workload_identity, default"));
}

struct CredentialConfig {
  CredentialKind kind = CredentialKind::kDefault;
  std::string tenant_id;  // app kinds; workload identity: else AZURE_TENANT_ID
  std::string client_id;  // app kinds; workload identity: else AZURE_CLIENT_ID
  // kClientSecretFile: the secret file; kCertificateFile: the PEM file;
  // kWorkloadIdentity: the federated token file (empty: AZURE_FEDERATED_TOKEN_FILE).
  std::string path;
  // kClientSecretEnv: the variable holding the secret.
  std::string env_name;
  // kClientSecretValue: the secret itself. Never logged or put in a message.
  std::string secret_value;
  // kManagedIdentity / kDefault: user-assigned identity client id (empty: system).
  std::string managed_identity_client_id;
  // kManagedIdentity / kDefault: token endpoint or origin (empty: IMDS).
  std::string imds_endpoint;
  CloudSettings cloud = AzurePublic();

  // Collaborators with working defaults.
  EnvLookup env;            // unset: the process environment
  WarningSink on_warning;   // unset: one line on stderr
  TokenCacheOptions cache;
  ImdsRetryPolicy imds_retry;
  std::function<void(absl::Duration)> sleep;  // IMDS retry waits; unset: real sleep
};

namespace azure_auth_factory_internal {

inline absl::Status FieldError(absl::string_view field, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("credential ", field, ": ",
                                                  status.message()));
}

inline absl::Status CheckApp(const CredentialConfig& config) {
  if (absl::Status s = azure_auth_internal::ValidateTenantId(config.tenant_id); !s.ok()) {
    return FieldError("tenant_id", s);
  }
  if (absl::Status s = azure_auth_internal::ValidateClientId(config.client_id); !s.ok()) {
    return FieldError("client_id", s);
  }
  return absl::OkStatus();
}

}  // namespace azure_auth_factory_internal

// Builds the credential `config` describes, wrapped in a TokenCache over `clock`.
// Errors (message names the field, never a secret):
//   kInvalidArgument  missing or malformed ids, path, env name, cloud, transport; a
//                     certificate PEM that cannot be used; an empty secret
//   kNotFound         the secret / certificate file or the env variable is missing
//   kPermissionDenied the file cannot be read
//   kFailedPrecondition  workload identity without its variables
// Thread-safe.
inline absl::StatusOr<std::shared_ptr<TokenCredential>> MakeCredential(
    const CredentialConfig& config, std::shared_ptr<http::HttpTransport> transport,
    common::Clock clock = common::SystemClock()) {
  using azure_auth_factory_internal::CheckApp;
  using azure_auth_factory_internal::FieldError;
  if (transport == nullptr) {
    return absl::InvalidArgumentError("credential: no HTTP transport given");
  }
  if (!clock) clock = common::SystemClock();
  if (absl::Status s = ValidateCloud(config.cloud); !s.ok()) return FieldError("cloud", s);
  EnvLookup env = config.env ? config.env : ProcessEnvironment();
  WarningSink warn = config.on_warning ? config.on_warning : StderrWarnings();

  std::shared_ptr<TokenCredential> credential;
  switch (config.kind) {
    case CredentialKind::kClientSecretFile: {
      if (absl::Status s = CheckApp(config); !s.ok()) return s;
      if (config.path.empty()) {
        return absl::InvalidArgumentError(
            "credential path: empty; name the file holding the client secret");
      }
      SecretProvider secret = FileSecret(config.path, warn,
                                         SecretFileOptions{"client secret file", true});
      if (absl::StatusOr<std::string> probe = secret(); !probe.ok()) {
        return FieldError("path", probe.status());
      }
      credential = std::make_shared<ClientSecretCredential>(
          config.tenant_id, config.client_id, std::move(secret), config.cloud,
          transport, clock);
      break;
    }
    case CredentialKind::kClientSecretEnv: {
      if (absl::Status s = CheckApp(config); !s.ok()) return s;
      if (config.env_name.empty()) {
        return absl::InvalidArgumentError(
            "credential env_name: empty; name the environment variable holding the "
            "client secret");
      }
      SecretProvider secret = EnvSecret(config.env_name, env);
      if (absl::StatusOr<std::string> probe = secret(); !probe.ok()) {
        return FieldError("env_name", probe.status());
      }
      credential = std::make_shared<ClientSecretCredential>(
          config.tenant_id, config.client_id, std::move(secret), config.cloud,
          transport, clock);
      break;
    }
    case CredentialKind::kClientSecretValue: {
      if (absl::Status s = CheckApp(config); !s.ok()) return s;
      if (config.secret_value.empty()) {
        return absl::InvalidArgumentError(
            "credential secret: empty; enter the client secret's Value");
      }
      credential = std::make_shared<ClientSecretCredential>(
          config.tenant_id, config.client_id, FixedSecret(config.secret_value),
          config.cloud, transport, clock);
      break;
    }
    case CredentialKind::kCertificateFile: {
      if (absl::Status s = CheckApp(config); !s.ok()) return s;
      if (config.path.empty()) {
        return absl::InvalidArgumentError(
            "credential path: empty; name the PEM file with the private key and "
            "certificate");
      }
      SecretProvider pem = CertificateFile(config.path, warn);
      absl::StatusOr<std::string> probe = pem();
      if (!probe.ok()) return FieldError("path", probe.status());
      if (absl::StatusOr<ClientCertificate> cert = ClientCertificate::FromPem(*probe);
          !cert.ok()) {
        return FieldError("path", absl::Status(cert.status().code(),
                                               absl::StrCat("certificate file ", config.path,
                                                            ": ", cert.status().message())));
      }
      credential = std::make_shared<ClientCertificateCredential>(
          config.tenant_id, config.client_id, std::move(pem), config.cloud, transport,
          clock);
      break;
    }
    case CredentialKind::kManagedIdentity: {
      ManagedIdentityOptions options;
      options.client_id = config.managed_identity_client_id;
      options.endpoint = config.imds_endpoint;
      options.retry = config.imds_retry;
      options.sleep = config.sleep;
      credential = std::make_shared<ManagedIdentityCredential>(std::move(options),
                                                               transport, clock);
      break;
    }
    case CredentialKind::kWorkloadIdentity: {
      WorkloadIdentitySettings settings;
      settings.tenant_id = config.tenant_id;
      settings.client_id = config.client_id;
      settings.token_file = config.path;
      absl::StatusOr<std::shared_ptr<WorkloadIdentityCredential>> workload =
          WorkloadIdentityCredential::FromEnvironment(env, std::move(settings),
                                                      config.cloud, transport, clock);
      if (!workload.ok()) return workload.status();
      credential = *std::move(workload);
      break;
    }
    case CredentialKind::kDefault: {
      DefaultCredentialOptions options;
      options.env = env;
      options.cloud = config.cloud;
      options.managed_identity_client_id = config.managed_identity_client_id;
      options.imds_endpoint = config.imds_endpoint;
      options.imds_retry = config.imds_retry;
      options.sleep = config.sleep;
      options.on_warning = warn;
      credential = std::make_shared<DefaultAzureCredential>(std::move(options),
                                                            transport, clock);
      break;
    }
  }
  if (credential == nullptr) {
    return absl::InvalidArgumentError("credential kind: not a known kind");
  }
  return std::shared_ptr<TokenCredential>(
      std::make_shared<TokenCache>(std::move(credential), std::move(clock), config.cache));
}

}  // namespace azure_auth

#endif  // AZURE_AUTH_CREDENTIAL_FACTORY_H_
