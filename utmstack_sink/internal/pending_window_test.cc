#include "utmstack_sink/internal/pending_window.h"

#include <string>
#include <vector>

#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "gtest/gtest.h"
#include "proto/plugins.pb.h"
#include "utmstack_sink/internal/serialized_log.h"

namespace utmstack_sink_internal {
namespace {

grpc::Slice Wire(const std::string& id) {
  plugins::Log log;
  log.set_id(id);
  log.set_raw("{\"n\":1}");
  return SerializeLog(log, log.ByteSizeLong());
}

std::string SendNext(PendingWindow* window) {
  const PendingWindow::Next next = window->TakeNextToSend();
  return next.wire == nullptr ? "(none)" : std::string(SerializedLogId(*next.wire));
}

TEST(PendingWindowTest, AnAckTakesEverythingSentUpToTheLogItNames) {
  PendingWindow window;
  for (const char* id : {"a", "b", "c", "d"}) window.Push(Wire(id));
  const size_t one = Wire("a").size();
  EXPECT_EQ(window.bytes(), 4 * one);
  EXPECT_EQ(SendNext(&window), "a");
  EXPECT_EQ(SendNext(&window), "b");
  EXPECT_EQ(SendNext(&window), "c");

  std::vector<grpc::Slice> done;
  EXPECT_EQ(window.Acknowledge("b", &done), 2u);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(SerializedLogId(done[0]), "a");
  EXPECT_EQ(SerializedLogId(done[1]), "b");
  EXPECT_EQ(window.size(), 2u);
  EXPECT_EQ(window.bytes(), 2 * one);
  EXPECT_EQ(window.sent(), 1u);  // c
  EXPECT_EQ(window.front_id(), "c");
  EXPECT_EQ(window.back_id(), "d");
}

TEST(PendingWindowTest, AnAckForALogNotSentOnThisStreamIsIgnored) {
  PendingWindow window;
  window.Push(Wire("a"));
  window.Push(Wire("b"));
  EXPECT_EQ(SendNext(&window), "a");
  std::vector<grpc::Slice> done;
  EXPECT_EQ(window.Acknowledge("b", &done), 0u);  // not sent yet
  EXPECT_EQ(window.Acknowledge("zzz", &done), 0u);
  EXPECT_TRUE(done.empty());
  EXPECT_EQ(window.size(), 2u);
}

TEST(PendingWindowTest, RepeatedIdsAreMatchedOldestFirst) {
  PendingWindow window;
  for (const char* id : {"x", "y", "x"}) window.Push(Wire(id));
  for (int k = 0; k < 3; ++k) SendNext(&window);
  std::vector<grpc::Slice> done;
  EXPECT_EQ(window.Acknowledge("x", &done), 1u);
  EXPECT_EQ(window.Acknowledge("x", &done), 2u);
  EXPECT_TRUE(window.empty());
}

TEST(PendingWindowTest, ANewStreamResendsEverythingPendingInOrder) {
  PendingWindow window;
  for (const char* id : {"a", "b", "c"}) window.Push(Wire(id));
  EXPECT_FALSE(window.TakeNextToSend().resend);
  EXPECT_FALSE(window.TakeNextToSend().resend);
  window.RestartSending();
  EXPECT_TRUE(window.has_unsent());
  PendingWindow::Next next = window.TakeNextToSend();
  EXPECT_TRUE(next.resend);
  EXPECT_EQ(SerializedLogId(*next.wire), "a");
  EXPECT_TRUE(window.TakeNextToSend().resend);   // b
  EXPECT_FALSE(window.TakeNextToSend().resend);  // c: first time
  EXPECT_EQ(window.TakeNextToSend().wire, nullptr);
}

TEST(PendingWindowTest, TakeAllGivesBackTheLogsOldestFirstAndEmptiesTheWindow) {
  PendingWindow window;
  for (const char* id : {"a", "b"}) window.Push(Wire(id));
  SendNext(&window);
  const std::vector<plugins::Log> logs = window.TakeAll();
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[0].id(), "a");
  EXPECT_EQ(logs[1].raw(), "{\"n\":1}");
  EXPECT_TRUE(window.empty());
  EXPECT_EQ(window.bytes(), 0u);
  EXPECT_EQ(window.sent(), 0u);
}

TEST(PendingWindowTest, ParseAckReadsAnAckAndRefusesOtherBytes) {
  plugins::Ack ack;
  ack.set_lastid("log-7");
  const std::string good = ack.SerializeAsString();
  grpc::Slice good_slice(good.data(), good.size());
  grpc::ByteBuffer good_buffer(&good_slice, 1);
  plugins::Ack parsed;
  ASSERT_TRUE(ParseAck(&good_buffer, &parsed));
  EXPECT_EQ(parsed.lastid(), "log-7");

  const std::string bad("\x0A\x09log", 5);  // length past the end
  grpc::Slice bad_slice(bad.data(), bad.size());
  grpc::ByteBuffer bad_buffer(&bad_slice, 1);
  EXPECT_FALSE(ParseAck(&bad_buffer, &parsed));
}

}  // namespace
}  // namespace utmstack_sink_internal
