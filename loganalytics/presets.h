// File: loganalytics/presets.h
//
// Named queries for the Azure data sources operators expect, each with the cursor name
// its checkpoint is stored under and the UTMStack dataType of its events:
//
//   AzureActivity          AzureActivity (subscription control-plane events)
//   SigninLogs             SigninLogs (Entra ID interactive sign-ins)
//   NonInteractiveSignins  AADNonInteractiveUserSignInLogs, AADServicePrincipalSignInLogs,
//                          AADManagedIdentitySignInLogs (high volume; opt-in)
//   AuditLogs              AuditLogs (Entra ID directory audit)
//   SecurityAlert          SecurityAlert (Defender for Cloud / Security Center alerts)
//   AzureFirewall          AZFW* resource-specific tables
//   AzureFirewallLegacy    AzureDiagnostics | where Category startswith "AzureFirewall"
//   NsgFlowLogs            AzureNetworkAnalytics_CL and NTANetAnalytics (traffic analytics)
//   KeyVault               AzureDiagnostics | where ResourceProvider == "MICROSOFT.KEYVAULT"
//   AppInsights            AppRequests, AppExceptions, AppTraces, AppDependencies,
//                          AppEvents, AppAvailabilityResults (workspace-based)
//   AllTables              union * (catch-all; opt-in, and then instead of the others,
//                          since it reads their rows too)
//
// Multi-table presets use `union isfuzzy=true` so a workspace lacking some of the
// tables still answers; a single-table preset whose table is missing gets the
// paginator's kNotFound (reported once, retried slowly). Every event keeps dataType
// "azure", which UTMStack's Azure parsing rules match on; `category` names the source.
// CustomQuery and TableQuery make presets from the operator's own KQL or table name.
//
// Example:
//   std::optional<Preset> preset = FindPreset("signinlogs");
//   PaginatorOptions options = PaginatorOptionsFor(*preset, workspace_id, "production");
//   Paginator paginator(client, options, cursors.Load(preset->cursor_name));
//
// Everything here is immutable data and pure functions: thread-safe.
//
// Status codes: CustomQuery and TableQuery return kInvalidArgument for a bad name or
// query (saying which); FindPreset returns nullopt for an unknown name.
#ifndef LOGANALYTICS_PRESETS_H_
#define LOGANALYTICS_PRESETS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "loganalytics/internal/kql.h"
#include "loganalytics/paginator.h"

namespace loganalytics {

struct Preset {
  std::string name;         // "SigninLogs"; FindPreset matches it case-insensitively
  std::string description;  // one line for the console and `status`
  std::string cursor_name;  // checkpoint key: "signin_logs"
  std::string data_type;    // Log.dataType
  std::string category;     // what the source is: "signin", "audit", ...
  std::string kql;          // the base query the paginator pages through
  bool has_item_id = true;  // rows keep _ItemId (every Log Analytics table has it)
  bool default_enabled = false;  // collected when the operator chose nothing
};

// Every built-in preset, in the order above.
inline const std::vector<Preset>& AllPresets() {
  static const std::vector<Preset>* const presets = new std::vector<Preset>{
      {"AzureActivity", "Azure Activity log: subscription control-plane operations",
       "azure_activity", "azure", "activity", "AzureActivity", true, true},
      {"SigninLogs", "Entra ID interactive user sign-ins", "signin_logs", "azure", "signin",
       "SigninLogs", true, true},
      {"NonInteractiveSignins",
       "Entra ID non-interactive, service principal and managed identity sign-ins",
       "noninteractive_signins", "azure", "signin",
       "union isfuzzy=true AADNonInteractiveUserSignInLogs, AADServicePrincipalSignInLogs, "
       "AADManagedIdentitySignInLogs",
       true, false},
      {"AuditLogs", "Entra ID directory audit events", "audit_logs", "azure", "audit",
       "AuditLogs", true, true},
      {"SecurityAlert", "Microsoft Defender for Cloud (Security Center) alerts",
       "security_alert", "azure", "alert", "SecurityAlert", true, true},
      {"AzureFirewall", "Azure Firewall logs (resource-specific AZFW tables)",
       "azure_firewall", "azure", "firewall",
       "union isfuzzy=true AZFWNetworkRule, AZFWApplicationRule, AZFWNatRule, "
       "AZFWThreatIntel, AZFWIdpsSignature, AZFWDnsQuery",
       true, true},
      {"AzureFirewallLegacy", "Azure Firewall logs sent to AzureDiagnostics",
       "azure_firewall_legacy", "azure", "firewall",
       "AzureDiagnostics\n| where Category startswith \"AzureFirewall\"", true, false},
      {"NsgFlowLogs", "NSG / VNet flow logs through traffic analytics", "nsg_flow_logs",
       "azure", "nsg_flow", "union isfuzzy=true AzureNetworkAnalytics_CL, NTANetAnalytics",
       true, true},
      {"KeyVault", "Key Vault audit events (AzureDiagnostics)", "key_vault", "azure",
       "keyvault", "AzureDiagnostics\n| where ResourceProvider == \"MICROSOFT.KEYVAULT\"",
       true, true},
      {"AppInsights", "Application Insights telemetry (workspace-based tables)",
       "app_insights", "azure", "appinsights",
       "union isfuzzy=true AppRequests, AppExceptions, AppTraces, AppDependencies, "
       "AppEvents, AppAvailabilityResults",
       true, true},
      {"AllTables", "Every table of the workspace (union *); use instead of the others",
       "all_tables", "azure", "all", "union *", true, false},
  };
  return *presets;
}

// The preset called `name` (case-insensitive), or nullopt.
inline std::optional<Preset> FindPreset(absl::string_view name) {
  for (const Preset& p : AllPresets()) {
    if (absl::EqualsIgnoreCase(p.name, name)) return p;
  }
  return std::nullopt;
}

namespace presets_internal {

inline absl::Status CheckName(absl::string_view name) {
  if (name.empty() || name.size() > 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "query name \"", name.substr(0, 64), "\" must have 1 to 64 characters"));
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "query name \"", name,
          "\" may hold only letters, digits, '_' and '-' (it names the checkpoint)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace presets_internal

// A preset for the operator's own KQL (`kql` is sent as written, followed by the
// paginator's clauses; set has_item_id = false when it projects _ItemId away).
// Returns kInvalidArgument for a bad name (letters, digits, '_', '-'), for an empty
// query, or for one that aggregates (summarize, make-series, evaluate): aggregated rows
// have no ingestion time to page by.
inline absl::StatusOr<Preset> CustomQuery(absl::string_view name, absl::string_view kql,
                                          bool has_item_id = true) {
  if (absl::Status s = presets_internal::CheckName(name); !s.ok()) return s;
  if (absl::StripAsciiWhitespace(kql).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("custom query \"", name, "\" has no KQL; write the table to read"));
  }
  const std::string lower = absl::AsciiStrToLower(kql);
  for (absl::string_view aggregate : {"summarize", "make-series", "evaluate"}) {
    if (absl::StrContains(lower, aggregate)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "custom query \"", name, "\" uses ", aggregate,
          ": its rows have no ingestion time, so it cannot be read incrementally; "
          "query the table rows instead"));
    }
  }
  Preset preset;
  preset.name = std::string(name);
  preset.description = "custom query";
  preset.cursor_name = absl::StrCat("custom_", name);
  preset.data_type = "azure";
  preset.category = "custom";
  preset.kql = std::string(kql);
  preset.has_item_id = has_item_id;
  return preset;
}

// A preset reading every row of one table; the name is bracket-quoted, so any table
// name (custom logs "My Table_CL" too) stays a name. Returns kInvalidArgument for an
// empty name or one with control characters.
inline absl::StatusOr<Preset> TableQuery(absl::string_view table) {
  absl::StatusOr<std::string> quoted = loganalytics_internal::QuoteIdentifier(table);
  if (!quoted.ok()) return quoted.status();
  Preset preset;
  preset.name = std::string(table);
  preset.description = absl::StrCat("table ", table);
  preset.cursor_name = absl::StrCat("table_", table);
  preset.data_type = "azure";
  preset.category = "table";
  preset.kql = *std::move(quoted);
  return preset;
}

// PaginatorOptions reading `preset` on `workspace_id`; `data_source` becomes
// Log.dataSource. Other fields keep `base`'s values.
inline PaginatorOptions PaginatorOptionsFor(const Preset& preset,
                                            absl::string_view workspace_id,
                                            absl::string_view data_source,
                                            PaginatorOptions base = {}) {
  base.workspace_id = std::string(workspace_id);
  base.name = preset.name;
  base.base_query = preset.kql;
  base.has_item_id = preset.has_item_id;
  base.convert.workspace_id = std::string(workspace_id);
  base.convert.data_type = preset.data_type;
  base.convert.data_source = std::string(data_source);
  return base;
}

}  // namespace loganalytics

#endif  // LOGANALYTICS_PRESETS_H_
