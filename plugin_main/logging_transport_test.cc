#include "plugin_main/logging_transport.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/json_log.h"
#include "common/json_log_capture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/fake_transport.h"
#include "http/http_transport.h"

namespace plugin_main {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kUrl[] = "https://api.loganalytics.io/v1/workspaces/ws-1/query";
constexpr char kToken[] = "eyJ0eXAiOiJKV1QiLCJhbGciOi.secret-token-value";

class LoggingTransportTest : public ::testing::Test {
 protected:
  LoggingTransportTest()
      : capture_(common::LogLevel::kInfo),
        log_(capture_.logger()),
        fake_(std::make_shared<http::FakeTransport>()),
        transport_(fake_, log_, "prod") {}

  absl::StatusOr<http::HttpResponse> Query() {
    http::HttpRequest request;
    request.method = "POST";
    request.url = kUrl;
    request.headers = {{"Authorization", std::string("Bearer ") + kToken}};
    request.body = R"({"query":"SigninLogs | take 1"})";
    return transport_.Send(request, http::RequestOptions());
  }

  std::vector<std::string> Lines() { return capture_.Lines(); }

  common::JsonLogCapture capture_;
  std::shared_ptr<common::JsonLogger> log_;
  std::shared_ptr<http::FakeTransport> fake_;
  LoggingTransport transport_;
};

TEST_F(LoggingTransportTest, OneLinePerRetriedAnswerAndTheAnswerPassesUnchanged) {
  fake_->AddResponse("POST", kUrl, 429,
                     R"({"error":{"message":"throttled","code":"ThrottledError"}})",
                     {{"Retry-After", "3"}});
  fake_->AddResponse("POST", kUrl, 503, R"({"error":{"code":"ServiceUnavailableError"}})");
  fake_->AddResponse("POST", kUrl, 504, R"({"error": {"code" : "GatewayTimeout"}})");
  fake_->AddResponse("POST", kUrl, 401, R"({"error":{"code":"AuthenticationFailed"}})");
  fake_->AddResponse("POST", kUrl, absl::UnavailableError("connection refused by 127.0.0.1"));
  fake_->AddResponse("POST", kUrl, absl::DeadlineExceededError("timeout after 660 s"));
  for (int i = 0; i < 6; ++i) {
    absl::StatusOr<http::HttpResponse> r = Query();
    if (i == 0) {
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->status, 429);
      EXPECT_EQ(r->Header("Retry-After").value_or(""), "3");
    }
    if (i == 4) EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  }
  std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(6));
  EXPECT_THAT(lines[0], HasSubstr("HTTP 429"));
  EXPECT_THAT(lines[0], HasSubstr(R"("azure_code":"ThrottledError")"));
  EXPECT_THAT(lines[0], HasSubstr(R"("retry_after":"3")"));
  EXPECT_THAT(lines[0], HasSubstr(R"("workspace":"prod")"));
  EXPECT_THAT(lines[1], HasSubstr("HTTP 503 (server error)"));
  EXPECT_THAT(lines[2], HasSubstr("HTTP 504 (gateway timeout)"));
  EXPECT_THAT(lines[2], HasSubstr(R"("azure_code":"GatewayTimeout")"));
  EXPECT_THAT(lines[3], HasSubstr("HTTP 401"));
  EXPECT_THAT(lines[4], HasSubstr("got no answer"));
  EXPECT_THAT(lines[4], HasSubstr("connection refused"));
  EXPECT_THAT(lines[5], HasSubstr("DEADLINE_EXCEEDED"));
  for (const std::string& line : lines) {
    EXPECT_THAT(line, HasSubstr(R"("level":"warning")"));
    EXPECT_THAT(line, Not(HasSubstr(kToken)));
    EXPECT_THAT(line, Not(HasSubstr("SigninLogs")));  // no request body
  }
}

TEST_F(LoggingTransportTest, NoLineForAnswersTheCallerReports) {
  fake_->AddResponse("POST", kUrl, 200, R"({"tables":[]})");
  fake_->AddResponse("POST", kUrl, 204, "");
  fake_->AddResponse("POST", kUrl, 400, R"({"error":{"code":"BadArgumentError"}})");
  fake_->AddResponse("POST", kUrl, 403, R"({"error":{"code":"InsufficientAccessError"}})");
  fake_->AddResponse("POST", kUrl, absl::OutOfRangeError("larger than the size limit"));
  for (int i = 0; i < 5; ++i) (void)Query();
  EXPECT_THAT(Lines(), SizeIs(0));
}

TEST(AzureErrorCodeTest, ReadsOnlyAPlainCode) {
  using logging_transport_internal::AzureErrorCode;
  EXPECT_EQ(AzureErrorCode(R"({"error":{"message":"x","code":"ThrottledError"}})"),
            "ThrottledError");
  EXPECT_EQ(AzureErrorCode(R"({"error":{"code":"Bad\"Code"}})"), "");
  EXPECT_EQ(AzureErrorCode(R"({"error":{"code":12}})"), "");
  EXPECT_EQ(AzureErrorCode(R"({"error":{"code":"unterminated)"), "");
  EXPECT_EQ(AzureErrorCode("<html>502</html>"), "");
  EXPECT_EQ(AzureErrorCode(""), "");
  EXPECT_EQ(AzureErrorCode(R"({"code")"), "");
}

}  // namespace
}  // namespace plugin_main
