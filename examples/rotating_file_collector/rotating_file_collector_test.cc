// Runs the rotating_file_collector binary with the connector's JSON configuration
// against FakeAzureServer (HTTPS, test CA, real token endpoint) serving a WorkspaceModel
// with two tables, and checks that every record arrives in the rotated files, that files
// rotate by size, and that a second run continues from the checkpoints into new files.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "examples/testing/run_program.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "testdata/fake_azure/fake_azure_server.h"
#include "testdata/workspace_model/fake_azure_handler.h"
#include "testdata/workspace_model/workspace_model.h"

namespace {

using ::testing::HasSubstr;
using workspace_model::Column;
using workspace_model::Record;

constexpr char kProgram[] = "examples/rotating_file_collector/rotating_file_collector";
constexpr uint64_t kMaxFileBytes = 64 * 1024;

// The string member `key` of the JSON object `json`; empty when absent.
std::string Member(const std::string& json, const char* key) {
  simdjson::dom::parser parser;
  std::string_view value;
  if (parser.parse(json).at_key(key).get_string().get(value) != simdjson::SUCCESS) return "";
  return std::string(value);
}

struct Delivered {
  std::map<std::string, int> count;     // _ItemId -> lines
  std::map<std::string, std::string> id;  // _ItemId -> Log.id
  std::set<std::string> data_sources;
};

class RotatingFileCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    azure_.SetQueryHandler(workspace_model::MakeQueryHandler(&model_));
    ASSERT_TRUE(azure_.Start().ok());
    dir_ = std::getenv("TEST_TMPDIR");
    out_dir_ = dir_ + "/out";
    std::filesystem::remove_all(out_dir_);
    std::filesystem::remove_all(dir_ + "/state");
    const fake_azure::FakeAzureServer::Options& o = azure_.options();
    std::ofstream(dir_ + "/secret") << o.client_secret << "\n";
    start_ = absl::Now() - absl::Hours(3);
    const std::string config = absl::StrReplaceAll(
        R"({
  "workspaces": [{
    "name": "fake-ws",
    "tenant_id": "$TENANT", "client_id": "$CLIENT", "client_secret_file": "$DIR/secret",
    "workspace_id": "$WORKSPACE",
    "cloud": "Custom", "authority_host": "$BASE", "query_host": "$BASE",
    "scope": "https://api.loganalytics.io/.default", "ca_file": "$CA",
    "queries": [{"custom": {"name": "signins", "kql": "SigninLogs"}},
                {"custom": {"name": "audit", "kql": "AuditLogs", "data_type": "azure-audit"}}],
    "poll_interval": "1s", "settle_delay": "1m", "start_at": "$START"
  }],
  "state_dir": "$DIR/state",
  "log_level": "warning"
})",
        {{"$TENANT", o.tenant_id},
         {"$CLIENT", o.client_id},
         {"$WORKSPACE", o.workspace_id},
         {"$BASE", azure_.base_url()},
         {"$CA", azure_.ca_file()},
         {"$DIR", dir_},
         {"$START", absl::FormatTime(absl::RFC3339_full, start_, absl::UTCTimeZone())}});
    std::ofstream(dir_ + "/config.json") << config;
  }

  void AddRecords(const std::string& table, const std::string& prefix, int count,
                  absl::Time first) {
    for (int i = 0; i < count; ++i) {
      const absl::Time ingested = first + absl::Seconds(i);
      const std::string id = absl::StrFormat("%s-%05d", prefix, i);
      model_.AddRecord(azure_.options().workspace_id,
                       Record{table, id, ingested - absl::Minutes(5), ingested, ingested,
                              {Column::String("Who", id + "@contoso.com"),
                               Column::String("Detail", std::string(120, 'd')),
                               Column::Dynamic("Props", R"({"k":[1,2,3]})")}});
    }
  }

  examples_testing::ProgramResult Run() {
    return examples_testing::RunProgram(
        kProgram,
        {"--config=" + dir_ + "/config.json", "--output_dir=" + out_dir_, "--once",
         absl::StrCat("--max_file_bytes=", kMaxFileBytes)},
        dir_, absl::Minutes(3));
  }

  // Every line of every file, by _ItemId.
  Delivered ReadDelivered() {
    Delivered d;
    for (const auto& entry : std::filesystem::directory_iterator(out_dir_)) {
      for (const std::string& line :
           examples_testing::Lines(examples_testing::ReadFile(entry.path().string()))) {
        const std::string item = Member(Member(line, "raw"), "_ItemId");
        ++d.count[item];
        d.id[item] = Member(line, "id");
        d.data_sources.insert(Member(line, "dataSource"));
      }
    }
    return d;
  }

  std::vector<std::string> FileNames() {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(out_dir_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  workspace_model::WorkspaceModel model_{common::SystemClock()};
  fake_azure::FakeAzureServer azure_;
  std::string dir_, out_dir_;
  absl::Time start_;
};

TEST_F(RotatingFileCollectorTest, EveryRecordArrivesInRotatedFilesAndARestartContinues) {
  const absl::Time now = absl::Now();
  AddRecords("SigninLogs", "s", 1500, now - absl::Minutes(100));
  AddRecords("AuditLogs", "a", 500, now - absl::Minutes(90));

  examples_testing::ProgramResult first = Run();
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_THAT(first.out, HasSubstr("delivered 2000 logs from 2 query(s)"));

  // Every record exactly once, across several files none larger than the limit.
  Delivered d = ReadDelivered();
  ASSERT_EQ(d.count.size(), 2000u);
  for (const auto& [item, n] : d.count) EXPECT_EQ(n, 1) << item;
  EXPECT_EQ(d.data_sources, std::set<std::string>{"fake-ws"});
  std::vector<std::string> files = FileNames();
  ASSERT_GE(files.size(), 5u) << "the files did not rotate";
  EXPECT_EQ(files.front(), "events-000001.jsonl");
  std::map<std::string, std::string> before;
  for (const std::string& name : files) {
    const std::string text = examples_testing::ReadFile(out_dir_ + "/" + name);
    EXPECT_LE(text.size(), kMaxFileBytes) << name;
    before[name] = text;
  }
  // The collector saved a cursor per query once the files were flushed.
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/state/fake-ws.signins.json"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/state/fake-ws.audit.json"));

  // A second run reads from the checkpoints into new files. A new process re-reads the
  // two minutes before each saved cursor (records that became visible late); those
  // repeats keep their Log.id. Nothing else repeats and nothing is lost.
  AddRecords("SigninLogs", "t", 200, now - absl::Minutes(40));
  examples_testing::ProgramResult second = Run();
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  for (const auto& [name, text] : before) {
    EXPECT_EQ(examples_testing::ReadFile(out_dir_ + "/" + name), text) << name << " changed";
  }
  EXPECT_GT(FileNames().size(), files.size());
  Delivered after = ReadDelivered();
  ASSERT_EQ(after.count.size(), 2200u);
  int repeated = 0;
  for (const auto& [item, n] : after.count) {
    if (n == 1) continue;
    ++repeated;
    EXPECT_EQ(n, 2) << item;
    EXPECT_EQ(after.id[item], d.id[item]) << item;
    // The last two minutes before each cursor: s-01379.. and a-00379..
    EXPECT_TRUE(item >= "s-01379" || (item[0] == 'a' && item >= "a-00379")) << item;
  }
  EXPECT_LE(repeated, 2 * 121);
}

TEST_F(RotatingFileCollectorTest, ABadConfigurationIsExitStatusTwo) {
  std::ofstream(dir_ + "/config.json", std::ios::trunc) << R"({"workspaces": []})";
  examples_testing::ProgramResult r = Run();
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("workspaces"));
}

}  // namespace
