#include "plugin_main/engine_health_log.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/json_log.h"
#include "common/json_log_capture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "utmstack_sink/engine_sink.h"

namespace plugin_main {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

class EngineHealthLogTest : public ::testing::Test {
 protected:
  EngineHealthLogTest()
      : capture_(common::LogLevel::kInfo),
        log_(capture_.logger()),
        health_(log_, "/tmp/e/engine.sock") {}

  void Observe(int second) { health_.Observe(stats_, t0_ + absl::Seconds(second)); }

  std::vector<std::string> Lines() { return capture_.Lines(); }

  common::JsonLogCapture capture_;
  std::shared_ptr<common::JsonLogger> log_;
  EngineHealthLog health_;
  utmstack_sink::EngineSinkStats stats_;
  absl::Time t0_ = absl::FromUnixSeconds(1700000000);
};

TEST_F(EngineHealthLogTest, SilentWhileHealthy) {
  for (int i = 0; i < 5; ++i) {
    stats_.acked += 100;
    stats_.streaming = true;
    Observe(i);
  }
  EXPECT_THAT(Lines(), SizeIs(0));
  EXPECT_FALSE(health_.down());
}

TEST_F(EngineHealthLogTest, OneLineForTheLossAndOneForTheRecovery) {
  stats_.acked = 100;
  Observe(0);
  // The engine goes away: the stream ends, then the socket is missing for a while.
  stats_.last_error = absl::UnavailableError("stream ended: Socket closed");
  stats_.pending_logs = 42;
  Observe(1);
  stats_.last_error = absl::UnavailableError("engine socket /tmp/e/engine.sock does not exist");
  Observe(2);
  Observe(3);
  EXPECT_TRUE(health_.down());
  // Back: a new stream, the unacknowledged Logs resent and acknowledged.
  stats_.reconnects = 1;
  stats_.resent = 42;
  stats_.acked = 142;
  Observe(5);
  EXPECT_FALSE(health_.down());
  std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(2));
  EXPECT_THAT(lines[0], HasSubstr("engine connection lost"));
  EXPECT_THAT(lines[0], HasSubstr("Socket closed"));
  EXPECT_THAT(lines[0], HasSubstr(R"("pending_logs":42)"));
  EXPECT_THAT(lines[0], HasSubstr(R"("level":"warning")"));
  EXPECT_THAT(lines[1], HasSubstr("engine connection restored"));
  EXPECT_THAT(lines[1], HasSubstr(R"("down_seconds":4)"));
  EXPECT_THAT(lines[1], HasSubstr(R"("resent_logs":42)"));
}

TEST_F(EngineHealthLogTest, AQuickRestartBetweenTwoLooksIsSeenByTheReconnect) {
  stats_.acked = 10;
  Observe(0);
  // Between two calls the stream broke and a new one took over; the error text is
  // the same as an earlier outage's, so only the reconnect count tells.
  stats_.last_error = absl::UnavailableError("replaced");
  stats_.reconnects = 1;
  Observe(1);
  stats_.acked = 20;
  Observe(2);
  stats_.reconnects = 2;  // again, same error text
  Observe(3);
  stats_.acked = 30;
  Observe(4);
  std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(4));
  EXPECT_THAT(lines[0], HasSubstr("lost"));
  EXPECT_THAT(lines[1], HasSubstr("restored"));
  EXPECT_THAT(lines[2], HasSubstr("lost"));
  EXPECT_THAT(lines[3], HasSubstr("restored"));
}

TEST_F(EngineHealthLogTest, AnEngineMissingAtStartIsALoss) {
  stats_.last_error = absl::UnavailableError("engine socket /x does not exist");
  Observe(0);
  Observe(1);
  ASSERT_THAT(Lines(), SizeIs(1));
  EXPECT_TRUE(health_.down());
}

}  // namespace
}  // namespace plugin_main
