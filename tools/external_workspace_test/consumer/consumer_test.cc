// The toolkit's libraries used from another workspace: the converter and the JSON-lines
// sink on a recorded answer, and the query client over the scripted transport.
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "azure_auth/token_credential.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/fake_transport.h"
#include "loganalytics/convert/log_converter.h"
#include "loganalytics/query_client.h"
#include "proto/plugins.pb.h"
#include "utmstack_sink/json_lines_sink.h"

namespace {

using ::testing::HasSubstr;

std::string g_answer_path;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// A credential that always hands out the same token.
class FixedToken : public azure_auth::TokenCredential {
 public:
  absl::StatusOr<azure_auth::AccessToken> GetToken(absl::string_view) override {
    return azure_auth::AccessToken{"token-1", absl::InfiniteFuture(), absl::InfinitePast()};
  }
  std::string Describe() const override { return "fixed test token"; }
};

TEST(ConsumerTest, RecordedAnswerBecomesJsonLines) {
  const std::string body = ReadFile(g_answer_path);
  ASSERT_FALSE(body.empty()) << "cannot read " << g_answer_path;

  std::ostringstream out;
  utmstack_sink::JsonLinesSink sink(&out);
  loganalytics::ConvertOptions options;
  options.workspace_id = "b4c4d9a5-7e2f-4c1d-9a3b-5e6f7a8b9c0d";
  options.data_source = "consumer";
  absl::StatusOr<loganalytics::ConvertSummary> summary = loganalytics::ConvertAnswer(
      body, options, [&](plugins::Log&& log, const loganalytics::RowMeta&) {
        return sink.Send(std::move(log), absl::InfiniteFuture());
      });
  ASSERT_TRUE(summary.ok()) << summary.status();
  ASSERT_TRUE(sink.Close(absl::InfiniteFuture()).ok());
  EXPECT_EQ(summary->rows, 6u);
  EXPECT_EQ(sink.lines(), 6u);
  EXPECT_THAT(out.str(), HasSubstr("\"dataSource\":\"consumer\""));
  EXPECT_THAT(out.str(), HasSubstr("\"dataType\":\"azure\""));
}

TEST(ConsumerTest, QueryClientOverTheScriptedTransport) {
  auto transport = std::make_shared<http::FakeTransport>();
  const std::string workspace = "b4c4d9a5-7e2f-4c1d-9a3b-5e6f7a8b9c0d";
  const std::string url =
      "https://api.loganalytics.io/v1/workspaces/" + workspace + "/query";
  transport->AddResponse("POST", url, 200, ReadFile(g_answer_path));
  transport->AddResponse("POST", url, 403,
                         R"({"error":{"code":"InsufficientAccessError","message":"denied"}})");
  loganalytics::QueryClient client(transport, std::make_shared<FixedToken>());

  absl::StatusOr<loganalytics::QueryResponse> answer =
      client.Query(workspace, "SigninLogs | take 6", "PT1H");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->status, 200);
  ASSERT_EQ(transport->requests().size(), 1u);
  EXPECT_EQ(transport->requests()[0].request.body,
            R"({"query":"SigninLogs | take 6","timespan":"PT1H"})");

  answer = client.Query(workspace, "SigninLogs | take 6", "PT1H");
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) g_answer_path = argv[1];
  return RUN_ALL_TESTS();
}
