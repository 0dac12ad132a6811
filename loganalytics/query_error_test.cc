#include "loganalytics/query_error.h"

#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/http_transport.h"
#include "testdata/azure/recorded_bodies.h"

namespace loganalytics {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kWorkspace[] = "b1a7e3c2-0d4f-4e5a-9b6c-7d8e9f0a1b2c";

std::string ReadTestdata(const std::string& name) {
  std::ifstream in("testdata/loganalytics/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

absl::Status Map(int status, std::string_view body, http::Headers headers = {}) {
  return ParseQueryError(status, absl::string_view(body.data(), body.size()), headers,
                         {"KQL query \"SigninLogs\" page 3", kWorkspace,
                          "api.loganalytics.io"});
}

std::string HttpStatusOf(const absl::Status& s) {
  auto p = s.GetPayload(kHttpStatusPayload);
  return p ? std::string(*p) : "";
}

TEST(ParseQueryErrorTest, SuccessIsOk) {
  EXPECT_TRUE(Map(200, "{}").ok());
  EXPECT_TRUE(Map(204, "").ok());
}

TEST(ParseQueryErrorTest, SyntaxErrorNamesLinePositionAndToken) {
  absl::Status s = Map(400, azure_testdata::kQueryError400Syntax);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              AllOf(HasSubstr("KQL query \"SigninLogs\" page 3 on workspace "
                              "b1a7e3c2-0d4f-4e5a-9b6c-7d8e9f0a1b2c failed: HTTP 400 "
                              "BadArgumentError/SyntaxError/SYN0002 from "
                              "api.loganalytics.io: the KQL does not parse at line 1, "
                              "position 22, near token \"|\""),
                    HasSubstr("Query could not be parsed at '|' on line [1,22]"),
                    HasSubstr("fix the query text"),
                    HasSubstr("correlation id 3c4d5e6f-7a8b-4c0d-9e2f-3a4b5c6d7e8f"),
                    HasSubstr("; body: {")));
  EXPECT_EQ(HttpStatusOf(s), "400");
  EXPECT_FALSE(MissingTable(s).has_value());
}

TEST(ParseQueryErrorTest, SyntaxErrorInDeepEnvelopeWithHostileToken) {
  absl::Status s = Map(400, ReadTestdata("query_error_400_deep.json"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  // The token holds a quote, a NUL, a single quote and a pipe: the NUL is escaped.
  EXPECT_THAT(std::string(s.message()), HasSubstr("at line 2, position 17, near token "
                                     "\"\"\\x00'|take\""));
  EXPECT_THAT(std::string(s.message()), HasSubstr("BadArgumentError/SyntaxError/SYN0001/SYN0003"));
}

TEST(ParseQueryErrorTest, MissingTableSaysNotFoundInThisWorkspace) {
  absl::Status s = Map(400, azure_testdata::kQueryError400Semantic);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              AllOf(HasSubstr("HTTP 400 BadArgumentError/SemanticError/SEM0100"),
                    HasSubstr("table or column 'SigninLogz' not found in this workspace"),
                    HasSubstr("diagnostic settings")));
  EXPECT_EQ(MissingTable(s), "SigninLogz");
}

TEST(ParseQueryErrorTest, UnresolvedScalarIsAQueryMistake) {
  absl::Status s = Map(400, ReadTestdata("query_error_400_semantic_column.json"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              AllOf(HasSubstr("column or function 'Colour' not found in this workspace"),
                    HasSubstr("fix the query"), Not(HasSubstr("diagnostic settings"))));
  EXPECT_FALSE(MissingTable(s).has_value());
}

TEST(ParseQueryErrorTest, BadRequestWithoutEnvelope) {
  absl::Status s = Map(400, "not json");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              AllOf(HasSubstr("failed: HTTP 400 from api.loganalytics.io: the request "
                              "was refused as invalid; check the query and its timespan"),
                    HasSubstr("body: not json")));
}

TEST(ParseQueryErrorTest, Unauthorized) {
  absl::Status s = Map(401, azure_testdata::kQueryError401);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(s.message()),
              AllOf(HasSubstr("HTTP 401 AuthenticationFailed"),
                    HasSubstr("the access token was refused"),
                    HasSubstr("check the tenant id, client id and client secret")));
}

TEST(ParseQueryErrorTest, ForbiddenNamesReaderRoleAndWorkspace) {
  absl::Status s = Map(403, azure_testdata::kQueryError403);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()),
              AllOf(HasSubstr("HTTP 403 InsufficientAccessError"),
                    HasSubstr("the app registration may not read workspace "
                              "b1a7e3c2-0d4f-4e5a-9b6c-7d8e9f0a1b2c"),
                    HasSubstr("Log Analytics Reader role")));
}

TEST(ParseQueryErrorTest, WrongAudienceIsAnAuthenticationProblem) {
  absl::Status s = Map(403, ReadTestdata("query_error_403_audience.json"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(s.message()),
              AllOf(HasSubstr("HTTP 403 InvalidAuthenticationTokenAudience"),
                    HasSubstr("https://api.loganalytics.io/.default")));
}

TEST(ParseQueryErrorTest, NotFoundNamesWorkspace) {
  absl::Status s = Map(404, azure_testdata::kQueryError404);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.message()),
              AllOf(HasSubstr("workspace b1a7e3c2-0d4f-4e5a-9b6c-7d8e9f0a1b2c was not "
                              "found"),
                    HasSubstr("PathNotFoundError"), HasSubstr("Workspace ID")));
}

TEST(ParseQueryErrorTest, RequestTimeoutIsRetryable) {
  absl::Status s = Map(408, "");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("HTTP 408 from api.loganalytics.io: the request "
                                     "timed out; retry after a backoff"));
}

TEST(ParseQueryErrorTest, ThrottledCarriesRetryAfter) {
  absl::Status s =
      Map(429, azure_testdata::kQueryError429, {{"retry-after", " 30 "}});
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()),
              AllOf(HasSubstr("KQL query \"SigninLogs\" page 3 on workspace "
                              "b1a7e3c2-0d4f-4e5a-9b6c-7d8e9f0a1b2c failed: HTTP 429 "
                              "ThrottledError from api.loganalytics.io: throttled"),
                    HasSubstr("retry after 30s"),
                    HasSubstr("200 requests per 30 s, 5 concurrent")));
  EXPECT_EQ(RetryAfter(s), absl::Seconds(30));
  EXPECT_EQ(HttpStatusOf(s), "429");
}

TEST(ParseQueryErrorTest, ThrottledWithoutOrWithDateRetryAfter) {
  absl::Status s = Map(429, azure_testdata::kQueryError429);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()), HasSubstr("retry after a backoff"));
  EXPECT_FALSE(RetryAfter(s).has_value());
  absl::Status dated = Map(429, "", {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}});
  EXPECT_FALSE(RetryAfter(dated).has_value());
}

TEST(ParseQueryErrorTest, InternalErrorIsUnavailable) {
  absl::Status s = Map(500, ReadTestdata("query_error_500.json"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), AllOf(HasSubstr("HTTP 500 InternalServerError"),
                                 HasSubstr("Log Analytics is unavailable"),
                                 HasSubstr("retry after a backoff")));
}

TEST(ParseQueryErrorTest, BadGatewayHtmlIsUnavailable) {
  absl::Status s = Map(502, ReadTestdata("query_error_502_html.html"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), AllOf(HasSubstr("HTTP 502 from api.loganalytics.io"),
                                 HasSubstr("body: <html><head><title>502 Bad Gateway")));
}

TEST(ParseQueryErrorTest, ServiceUnavailableKeepsRetryAfter) {
  absl::Status s =
      Map(503, ReadTestdata("query_error_503.json"), {{"Retry-After", "7"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), AllOf(HasSubstr("HTTP 503 ServiceUnavailableError"),
                                 HasSubstr("retry after 7s")));
  EXPECT_EQ(RetryAfter(s), absl::Seconds(7));
}

TEST(ParseQueryErrorTest, GatewayTimeoutIsDeadlineExceeded) {
  absl::Status s = Map(504, azure_testdata::kQueryError504);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(s.message()), AllOf(HasSubstr("HTTP 504 GatewayTimeout"),
                                 HasSubstr("ran past the gateway's time limit"),
                                 HasSubstr("narrow the query or its page size")));
}

TEST(ParseQueryErrorTest, OtherClientErrorIsFailedPrecondition) {
  absl::Status s = Map(413, "");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("HTTP 413 from api.loganalytics.io: unexpected "
                                     "client error"));
}

TEST(ParseQueryErrorTest, RedirectIsUnknown) {
  absl::Status s = Map(302, "");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(std::string(s.message()), HasSubstr("HTTP 302 from api.loganalytics.io: unexpected "
                                     "HTTP status"));
}

TEST(ParseQueryErrorTest, QuotedBodyStaysValidUtf8OnOneLine) {
  // 255 ASCII bytes, then a 2-byte letter cut by the 256-byte limit.
  std::string body = std::string(255, 'a') + "\xc3\xa9 tail";
  absl::Status s = Map(500, body);
  EXPECT_THAT(std::string(s.message()), HasSubstr("body: " + std::string(255, 'a') + "..."));
  absl::Status mixed = Map(500, "line1\nbad \xff byte, \xc3\xa9t\xc3\xa9");
  EXPECT_THAT(std::string(mixed.message()),
              HasSubstr("body: line1\\x0abad \\xff byte, \xc3\xa9t\xc3\xa9"));
}

TEST(ParseQueryErrorTest, QuotesAtMost256BytesOfBody) {
  std::string body(1000, 'x');
  absl::Status s = Map(500, body);
  EXPECT_THAT(std::string(s.message()), HasSubstr("body: " + std::string(256, 'x') + "..."));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr(std::string(257, 'x'))));
}

TEST(ParseErrorEnvelopeTest, ReadsNestedFields) {
  std::optional<QueryErrorEnvelope> e =
      ParseErrorEnvelope(ReadTestdata("query_error_400_syntax_nested.json"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "BadArgumentError");
  EXPECT_EQ(e->correlation_id, "8b9c0d1e-2f3a-4b4c-9d5e-6f7a8b9c0d1e");
  EXPECT_EQ(e->inner_codes, (std::vector<std::string>{"SyntaxError", "SYN0002"}));
  EXPECT_EQ(e->line, 3);
  EXPECT_EQ(e->pos, 2);
  EXPECT_EQ(e->token, "wher");
  EXPECT_FALSE(ParseErrorEnvelope("[1,2]").has_value());
  EXPECT_FALSE(ParseErrorEnvelope("").has_value());
}

}  // namespace
}  // namespace loganalytics
