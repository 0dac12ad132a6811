#include "loganalytics/presets.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loganalytics/internal/static_credential.h"
#include "loganalytics/paginator.h"
#include "loganalytics/query_client.h"
#include "proto/plugins.pb.h"
#include "simdjson.h"
#include "testdata/workspace_model/model_transport.h"
#include "testdata/workspace_model/workspace_model.h"

namespace loganalytics {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;
using workspace_model::Column;
using workspace_model::Record;

constexpr char kWs[] = "b4c4d9a5-7e2f-4c1d-9a3b-5e6f7a8b9c0d";
const absl::Time kT0 = absl::FromUnixSeconds(1704067200);

std::string KeyOf(const plugins::Log& log) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view key;
  if (parser.parse(log.raw()).get(doc) != simdjson::SUCCESS ||
      doc["Key"].get(key) != simdjson::SUCCESS) {
    return "<no Key>";
  }
  return std::string(key);
}

class PresetsTest : public ::testing::Test {
 protected:
  PresetsTest() : model_(clock_.AsClock()) {
    client_ = std::make_shared<QueryClient>(
        std::make_shared<workspace_model::ModelTransport>(&model_),
        std::make_shared<loganalytics_internal::StaticCredential>(
            std::vector<std::string>{"token"}),
        QueryClientOptions());
  }

  void Add(const std::string& table, const std::string& key,
           std::vector<Column> extra = {}) {
    extra.push_back(Column::String("Key", key));
    model_.AddRecord(kWs, Record{table, absl::StrCat(table, "-", key),
                                 kT0 + absl::Seconds(++n_) - absl::Minutes(1),
                                 kT0 + absl::Seconds(n_), kT0 + absl::Seconds(n_), extra});
  }

  // Every Key the preset delivers (the paginator drains the workspace).
  absl::StatusOr<std::vector<std::string>> Read(const Preset& preset) {
    PaginatorOptions base;
    base.initial_page_rows = 3;
    base.convert.clock = clock_.AsClock();
    Paginator paginator(client_, PaginatorOptionsFor(preset, kWs, "production", base),
                        Cursor::StartAt(kT0 - absl::Hours(1)), clock_.AsClock(),
                        [](absl::Duration) {});
    std::vector<std::string> keys;
    for (int i = 0; i < 100; ++i) {
      absl::StatusOr<Page> page = paginator.NextPage();
      if (!page.ok()) return page.status();
      for (const plugins::Log& log : page->logs) {
        EXPECT_EQ(log.datatype(), preset.data_type);
        EXPECT_EQ(log.datasource(), "production");
        keys.push_back(KeyOf(log));
      }
      if (absl::Status s = paginator.Commit(*page); !s.ok()) return s;
      if (page->complete && !page->more_available) break;
    }
    return keys;
  }

  common::FakeClock clock_{kT0 + absl::Hours(1)};
  workspace_model::WorkspaceModel model_;
  std::shared_ptr<QueryClient> client_;
  int n_ = 0;
};

TEST(PresetCatalogTest, NamesCursorsAndLookups) {
  std::set<std::string> names, cursors;
  for (const Preset& p : AllPresets()) {
    EXPECT_TRUE(names.insert(p.name).second) << p.name;
    EXPECT_TRUE(cursors.insert(p.cursor_name).second) << p.cursor_name;
    EXPECT_EQ(p.data_type, "azure") << p.name;
    EXPECT_FALSE(p.description.empty()) << p.name;
  }
  EXPECT_EQ(AllPresets().size(), 11u);
  ASSERT_TRUE(FindPreset("signinlogs").has_value());
  EXPECT_EQ(FindPreset("signinlogs")->cursor_name, "signin_logs");
  EXPECT_FALSE(FindPreset("Nope").has_value());
  EXPECT_FALSE(FindPreset("AllTables")->default_enabled);
  EXPECT_TRUE(FindPreset("KeyVault")->default_enabled);
}

TEST_F(PresetsTest, EachPresetReadsItsTablesOnly) {
  // One or two records in each source table, plus decoys for the filtered presets.
  Add("AzureActivity", "activity-1");
  Add("SigninLogs", "signin-1");
  Add("AADNonInteractiveUserSignInLogs", "nonint-1");
  Add("AADServicePrincipalSignInLogs", "sp-1");
  Add("AuditLogs", "audit-1");
  Add("SecurityAlert", "alert-1");
  Add("AZFWNetworkRule", "fw-net-1");
  Add("AZFWApplicationRule", "fw-app-1");
  Add("AZFWDnsQuery", "fw-dns-1");
  Add("AzureDiagnostics", "diag-fw-1",
      {Column::String("Category", "AzureFirewallNetworkRule"),
       Column::String("ResourceProvider", "MICROSOFT.NETWORK")});
  Add("AzureDiagnostics", "diag-kv-1",
      {Column::String("Category", "AuditEvent"),
       Column::String("ResourceProvider", "MICROSOFT.KEYVAULT")});
  Add("AzureDiagnostics", "diag-other-1",
      {Column::String("Category", "SQLSecurityAuditEvents"),
       Column::String("ResourceProvider", "MICROSOFT.SQL")});
  Add("AzureNetworkAnalytics_CL", "nsg-1");
  Add("NTANetAnalytics", "nsg-2");
  Add("AppRequests", "app-req-1");
  Add("AppExceptions", "app-exc-1");
  Add("AppTraces", "app-trc-1");

  const std::map<std::string, std::vector<std::string>> expected = {
      {"AzureActivity", {"activity-1"}},
      {"SigninLogs", {"signin-1"}},
      {"NonInteractiveSignins", {"nonint-1", "sp-1"}},
      {"AuditLogs", {"audit-1"}},
      {"SecurityAlert", {"alert-1"}},
      {"AzureFirewall", {"fw-net-1", "fw-app-1", "fw-dns-1"}},
      {"AzureFirewallLegacy", {"diag-fw-1"}},
      {"NsgFlowLogs", {"nsg-1", "nsg-2"}},
      {"KeyVault", {"diag-kv-1"}},
      {"AppInsights", {"app-req-1", "app-exc-1", "app-trc-1"}},
  };
  std::vector<std::string> all;
  for (const auto& [name, keys] : expected) {
    std::optional<Preset> preset = FindPreset(name);
    ASSERT_TRUE(preset.has_value()) << name;
    absl::StatusOr<std::vector<std::string>> read = Read(*preset);
    ASSERT_TRUE(read.ok()) << name << ": " << read.status();
    EXPECT_THAT(*read, UnorderedElementsAreArray(keys)) << name;
  }
  absl::StatusOr<std::vector<std::string>> everything = Read(*FindPreset("AllTables"));
  ASSERT_TRUE(everything.ok()) << everything.status();
  EXPECT_EQ(everything->size(), 17u);
  EXPECT_EQ(model_.stats().bad_requests, 0);
}

TEST_F(PresetsTest, MissingSingleTableIsNotFoundAndFuzzyUnionIsEmpty) {
  Add("SigninLogs", "signin-1");
  absl::StatusOr<std::vector<std::string>> audit = Read(*FindPreset("AuditLogs"));
  EXPECT_EQ(audit.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(audit.status().message()),
              HasSubstr("table or column 'AuditLogs' not found in this workspace"));
  absl::StatusOr<std::vector<std::string>> apps = Read(*FindPreset("AppInsights"));
  ASSERT_TRUE(apps.ok()) << apps.status();
  EXPECT_TRUE(apps->empty());
}

TEST_F(PresetsTest, CustomAndTableQueries) {
  Add("My Table_CL", "custom-1");
  Add("SigninLogs", "signin-1", {Column::String("ResultType", "50126")});
  Add("SigninLogs", "signin-2", {Column::String("ResultType", "0")});

  absl::StatusOr<Preset> table = TableQuery("My Table_CL");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->kql, "['My Table_CL']");
  EXPECT_EQ(table->cursor_name, "table_My Table_CL");
  absl::StatusOr<std::vector<std::string>> read = Read(*table);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(*read, UnorderedElementsAreArray({"custom-1"}));

  absl::StatusOr<Preset> failures =
      CustomQuery("failed_signins", "SigninLogs | where ResultType != \"0\"");
  ASSERT_TRUE(failures.ok()) << failures.status();
  EXPECT_EQ(failures->cursor_name, "custom_failed_signins");
  read = Read(*failures);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(*read, UnorderedElementsAreArray({"signin-1"}));

  absl::StatusOr<Preset> bad_name = CustomQuery("a/b", "T");
  EXPECT_EQ(bad_name.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad_name.status().message()), HasSubstr("may hold only letters"));
  absl::StatusOr<Preset> empty = CustomQuery("x", "  ");
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<Preset> aggregated = CustomQuery("x", "SigninLogs | Summarize count()");
  EXPECT_EQ(aggregated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(aggregated.status().message()),
              HasSubstr("cannot be read incrementally"));
  EXPECT_EQ(TableQuery("").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace loganalytics
