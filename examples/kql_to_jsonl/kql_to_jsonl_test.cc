// Runs the kql_to_jsonl binary against FakeAzureServer (real HTTPS with a test CA, real
// token endpoint) serving a WorkspaceModel, and checks the JSON lines it prints.
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

constexpr char kProgram[] = "examples/kql_to_jsonl/kql_to_jsonl";

// One line of --format=log: the Log id and the _ItemId and user inside its raw JSON.
struct LogLine {
  std::string id;
  std::string item_id;
  std::string user;
};

// The string member `key` of the JSON object `json`; empty when absent.
std::string Member(const std::string& json, const char* key) {
  simdjson::dom::parser parser;
  std::string_view value;
  if (parser.parse(json).at_key(key).get_string().get(value) != simdjson::SUCCESS) return "";
  return std::string(value);
}

LogLine ParseLogLine(const std::string& line) {
  LogLine out;
  out.id = Member(line, "id");
  const std::string raw = Member(line, "raw");
  out.item_id = Member(raw, "_ItemId");
  out.user = Member(raw, "UserPrincipalName");
  return out;
}

class KqlToJsonlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    azure_.SetQueryHandler(workspace_model::MakeQueryHandler(&model_));
    ASSERT_TRUE(azure_.Start().ok());
    dir_ = std::getenv("TEST_TMPDIR");
    secret_file_ = dir_ + "/secret";
    std::ofstream(secret_file_) << azure_.options().client_secret << "\n";
  }

  // Adds `count` SigninLogs records ingested one second apart from `first`.
  void AddRecords(const std::string& prefix, int count, absl::Time first) {
    for (int i = 0; i < count; ++i) {
      const absl::Time ingested = first + absl::Seconds(i);
      const std::string id = absl::StrFormat("%s-%05d", prefix, i);
      model_.AddRecord(workspace(),
                       Record{"SigninLogs", id, ingested - absl::Minutes(3), ingested, ingested,
                              {Column::String("UserPrincipalName", id + "@contoso.com"),
                               Column::Long("ResultType", i % 3 == 0 ? 50126 : 0),
                               Column::Dynamic("LocationDetails", R"({"countryOrRegion":"CH"})")}});
    }
  }

  std::string workspace() const { return azure_.options().workspace_id; }

  // The flags every run shares: the fake's cloud, CA, ids and secret file.
  std::vector<std::string> BaseArgs() const {
    const fake_azure::FakeAzureServer::Options& o = azure_.options();
    return {"--cloud=Custom",
            "--authority_host=" + azure_.base_url(),
            "--query_host=" + azure_.base_url(),
            "--ca_file=" + azure_.ca_file(),
            "--tenant_id=" + o.tenant_id,
            "--client_id=" + o.client_id,
            "--credential_path=" + secret_file_,
            "--workspace_id=" + workspace()};
  }

  examples_testing::ProgramResult Run(std::vector<std::string> extra) {
    std::vector<std::string> args = BaseArgs();
    args.insert(args.end(), extra.begin(), extra.end());
    return examples_testing::RunProgram(kProgram, args, dir_, absl::Minutes(3));
  }

  workspace_model::WorkspaceModel model_{common::SystemClock()};
  fake_azure::FakeAzureServer azure_;
  std::string dir_;
  std::string secret_file_;
};

TEST_F(KqlToJsonlTest, ExportsEveryRecordPageByPageAndResumesFromTheCursor) {
  const absl::Time now = absl::Now();
  AddRecords("a", 1200, now - absl::Minutes(90));
  const std::string cursor_file = dir_ + "/signins.cursor";
  const std::vector<std::string> flags = {
      "--query=SigninLogs", "--query_name=signins", "--format=log", "--page_rows=250",
      "--since=" + absl::FormatTime(absl::RFC3339_full, now - absl::Hours(3), absl::UTCTimeZone()),
      "--cursor_file=" + cursor_file};

  examples_testing::ProgramResult first = Run(flags);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::vector<std::string> lines = examples_testing::Lines(first.out);
  ASSERT_EQ(lines.size(), 1200u) << first.err;
  std::map<std::string, std::string> id_of;  // _ItemId -> Log.id
  for (const std::string& line : lines) {
    LogLine log = ParseLogLine(line);
    EXPECT_EQ(log.user, log.item_id + "@contoso.com");
    EXPECT_TRUE(id_of.emplace(log.item_id, log.id).second) << "twice: " << log.item_id;
  }
  EXPECT_THAT(first.err, HasSubstr("1200 rows in"));
  // Several pages: 250 rows each, then growing.
  EXPECT_GE(azure_.query_requests().size(), 4u);
  EXPECT_THAT(examples_testing::ReadFile(cursor_file), HasSubstr("\"item_id\":\"a-01199\""));

  // A second run starts from the saved cursor: the new records, plus the records of the
  // two minutes before the cursor again (the overlap a new process re-reads), which
  // carry the Log ids they had the first time.
  AddRecords("b", 300, now - absl::Minutes(60));
  examples_testing::ProgramResult second = Run(flags);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  std::set<std::string> new_ids;
  int repeats = 0;
  for (const std::string& line : examples_testing::Lines(second.out)) {
    LogLine log = ParseLogLine(line);
    if (log.item_id[0] == 'b') {
      EXPECT_TRUE(new_ids.insert(log.item_id).second) << "twice: " << log.item_id;
      continue;
    }
    ++repeats;
    ASSERT_EQ(id_of.count(log.item_id), 1u) << log.item_id;
    EXPECT_EQ(id_of[log.item_id], log.id) << "a repeat must keep its Log.id";
    EXPECT_GE(log.item_id, "a-01079") << "only the overlap before the cursor repeats";
  }
  EXPECT_EQ(new_ids.size(), 300u);
  EXPECT_LE(repeats, 121);
  EXPECT_THAT(examples_testing::ReadFile(cursor_file), HasSubstr("\"item_id\":\"b-00299\""));
}

TEST_F(KqlToJsonlTest, SingleQueryPrintsRowsAsJsonObjects) {
  AddRecords("s", 20, absl::Now() - absl::Minutes(30));
  examples_testing::ProgramResult r =
      Run({"--mode=single", "--query=SigninLogs | where ResultType == 50126 | take 5",
           "--timespan=P1D"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = examples_testing::Lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  simdjson::dom::parser parser;
  for (const std::string& line : lines) {
    simdjson::dom::element row;
    ASSERT_EQ(parser.parse(line).get(row), simdjson::SUCCESS) << line;
    int64_t result_type = 0;
    EXPECT_EQ(row["ResultType"].get_int64().get(result_type), simdjson::SUCCESS)
        << "a number, not a string: " << line;
    EXPECT_EQ(result_type, 50126);
    std::string_view country;
    EXPECT_EQ(row["LocationDetails"]["countryOrRegion"].get_string().get(country),
              simdjson::SUCCESS)
        << "nested JSON, not an escaped string: " << line;
    EXPECT_EQ(country, "CH");
  }
  ASSERT_EQ(azure_.query_requests().size(), 1u);
  EXPECT_THAT(azure_.query_requests()[0].body, HasSubstr("\"timespan\":\"P1D\""));
}

TEST_F(KqlToJsonlTest, ErrorsNameTheStatusCodeAndWhatToFix) {
  AddRecords("e", 3, absl::Now() - absl::Minutes(30));
  // A wrong secret: Entra ID's AADSTS7000215 becomes UNAUTHENTICATED.
  std::ofstream(secret_file_, std::ios::trunc) << "not-the-secret\n";
  examples_testing::ProgramResult r = Run({"--query=SigninLogs"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("UNAUTHENTICATED"));
  EXPECT_THAT(r.err, HasSubstr("AADSTS7000215"));
  EXPECT_THAT(r.out, ::testing::IsEmpty());

  // No Log Analytics Reader role: 403 becomes PERMISSION_DENIED.
  std::ofstream(secret_file_, std::ios::trunc) << azure_.options().client_secret << "\n";
  azure_.InjectQueryFaults(1, 403,
                           R"({"error":{"code":"InsufficientAccessError","message":)"
                           R"("The provided credentials have insufficient access."}})");
  r = Run({"--query=SigninLogs"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("PERMISSION_DENIED"));

  // Bad flags.
  r = examples_testing::RunProgram(kProgram, {"--query=SigninLogs"}, dir_, absl::Minutes(1));
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
