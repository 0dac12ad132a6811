#include "plugin_main/metrics_server.h"

#include <atomic>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace plugin_main {
namespace {

using ::testing::HasSubstr;

TEST(MetricsServerTest, ServesTheRenderedTextOnLoopbackOnly) {
  std::atomic<int> renders{0};
  MetricsServer server([&] {
    ++renders;
    return std::string("# TYPE azure_la_rows_total counter\nazure_la_rows_total{query=\"q\"} 5\n");
  });
  ASSERT_TRUE(server.Start(0).ok());
  ASSERT_GT(server.port(), 0);
  httplib::Client client("127.0.0.1", server.port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->body, HasSubstr("azure_la_rows_total{query=\"q\"} 5"));
  EXPECT_THAT(res->get_header_value("Content-Type"), HasSubstr("text/plain"));
  auto missing = client.Get("/other");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(renders.load(), 1);
  server.Stop();
  EXPECT_FALSE(httplib::Client("127.0.0.1", server.port()).Get("/metrics"));
}

TEST(MetricsServerTest, ABusyPortIsAClearError) {
  MetricsServer first([] { return std::string(); });
  ASSERT_TRUE(first.Start(0).ok());
  MetricsServer second([] { return std::string(); });
  absl::Status s = second.Start(first.port());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("metrics_port"));
  EXPECT_EQ(MetricsServer([] { return std::string(); }).Start(70000).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace plugin_main
