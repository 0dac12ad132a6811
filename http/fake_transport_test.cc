#include "http/fake_transport.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/http_transport.h"

namespace http {
namespace {

using ::testing::HasSubstr;

HttpRequest Post(std::string url, std::string body) {
  HttpRequest request;
  request.method = "POST";
  request.url = std::move(url);
  request.body = std::move(body);
  return request;
}

TEST(FakeTransportTest, HandsOutQueuedResponsesInOrderPerKey) {
  FakeTransport transport;
  transport.AddResponse("POST", "https://a/token", 200, "first", {{"X-N", "1"}});
  transport.AddResponse("POST", "https://a/token", absl::UnavailableError("reset"));
  transport.AddResponse("POST", "https://a/query", 429, "slow down", {{"Retry-After", "3"}});
  EXPECT_EQ(transport.pending(), 3u);

  absl::StatusOr<HttpResponse> r = transport.Send(Post("https://a/query", "q"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->Header("retry-after"), "3");
  r = transport.Send(Post("https://a/token", "t1"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "first");
  EXPECT_EQ(r->Header("X-N"), "1");
  r = transport.Send(Post("https://a/token", "t2"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "reset");
  EXPECT_EQ(transport.pending(), 0u);

  std::vector<FakeTransport::Exchange> sent = transport.requests();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].request.body, "q");
  EXPECT_EQ(sent[1].request.body, "t1");
  EXPECT_EQ(sent[2].request.url, "https://a/token");
}

TEST(FakeTransportTest, UnscriptedRequestFailsNamingIt) {
  FakeTransport transport;
  transport.AddResponse("GET", "https://a/x", 200, "");
  absl::StatusOr<HttpResponse> r = transport.Send(Post("https://a/x", ""));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("no response scripted for POST https://a/x"));
  EXPECT_EQ(transport.requests().size(), 1u);
}

TEST(FakeTransportTest, FallbackAnswersWhenTheQueueIsEmpty) {
  FakeTransport transport;
  transport.AddResponse("POST", "https://a/q", 200, "scripted");
  RequestOptions seen_options;
  transport.SetFallback([&](const HttpRequest& request, const RequestOptions& options)
                            -> absl::StatusOr<HttpResponse> {
    seen_options = options;
    HttpResponse response;
    response.status = 200;
    response.body = "echo " + request.body;
    return response;
  });
  EXPECT_EQ(transport.Send(Post("https://a/q", "1"))->body, "scripted");
  RequestOptions options;
  options.use_proxy = false;
  EXPECT_EQ(transport.Send(Post("https://a/q", "2"), options)->body, "echo 2");
  EXPECT_FALSE(seen_options.use_proxy);
  EXPECT_FALSE(transport.requests()[1].options.use_proxy);
  transport.SetFallback(nullptr);
  EXPECT_EQ(transport.Send(Post("https://a/q", "3")).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(FakeTransportTest, BodyOverTheCapIsOutOfRangeLikeTheRealTransport) {
  FakeTransport transport;
  transport.AddResponse("POST", "https://api.loganalytics.io/v1/q", 200, std::string(11, 'x'));
  transport.AddResponse("POST", "https://api.loganalytics.io/v1/q", 200, std::string(10, 'x'));
  RequestOptions options;
  options.max_response_bytes = 10;
  absl::StatusOr<HttpResponse> r =
      transport.Send(Post("https://api.loganalytics.io/v1/q", ""), options);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("HTTP response from api.loganalytics.io is larger than the "
                        "10-byte response size limit"));
  r = transport.Send(Post("https://api.loganalytics.io/v1/q", ""), options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body.size(), 10u);
}

TEST(FakeTransportTest, ConcurrentSendsEachGetOneResponse) {
  FakeTransport transport;
  for (int i = 0; i < 100; ++i) transport.AddResponse("GET", "https://a/", 200, "x");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        HttpRequest request;
        request.url = "https://a/";
        if (transport.Send(request).ok()) ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(transport.pending(), 0u);
  EXPECT_EQ(transport.requests().size(), 100u);
}

}  // namespace
}  // namespace http
