// EngineSink against a real gRPC server (FakeEngine) on a Unix socket, in each of the
// engine's modes and faults.
#include "utmstack_sink/engine_sink.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "grpcpp/grpcpp.h"
#include "proto/plugins.grpc.pb.h"
#include "proto/plugins.pb.h"
#include "testdata/fake_engine/fake_engine.h"
#include "testdata/fake_engine/short_temp_dir.h"

namespace utmstack_sink {
namespace {

using ::fake_engine::FakeEngine;
using ::fake_engine::FakeEngineOptions;
using ::testing::HasSubstr;

constexpr absl::Duration kLong = absl::Seconds(60);  // bound for waits that must succeed

plugins::Log MakeLog(int i, size_t raw_bytes = 1000) {
  plugins::Log log;
  log.set_id(absl::StrCat("log-", i));
  log.set_datatype("azure");
  log.set_datasource("group-1");
  log.set_timestamp("2024-05-01T10:00:00.000000001Z");
  log.set_tenantid("ce66672c-e36d-4761-a8c8-90058fee1a24");
  log.set_raw(std::string(raw_bytes, 'x'));
  return log;
}

int Number(const std::string& id) {
  int n = -1;
  if (id.rfind("log-", 0) != 0 ||
      !absl::SimpleAtoi(absl::string_view(id).substr(4), &n)) {
    return -1;
  }
  return n;
}

// What the engine read (`ids`, each with the number of the stream it came on) must be
// log-0 .. log-(n-1), all of them, consecutive within a stream, and each new stream
// must start at or before the first Log not read yet (a resend from the oldest
// unacknowledged Log; never a gap). With `exactly_once`, no Log may repeat.
void ExpectAllInOrder(const std::vector<std::string>& ids,
                      const std::vector<int>& streams, int n, bool exactly_once) {
  ASSERT_EQ(ids.size(), streams.size());
  std::vector<bool> seen(n, false);
  int previous = -1;
  int highest = -1;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int k = Number(ids[i]);
    ASSERT_GE(k, 0) << ids[i];
    ASSERT_LT(k, n) << ids[i];
    if (i > 0 && streams[i] == streams[i - 1]) {
      ASSERT_EQ(k, previous + 1)
          << "out of order within stream " << streams[i] << " at position " << i;
    } else {
      ASSERT_LE(k, highest + 1) << "gap when stream " << streams[i] << " started";
    }
    seen[k] = true;
    previous = k;
    highest = std::max(highest, k);
  }
  for (int k = 0; k < n; ++k) ASSERT_TRUE(seen[k]) << "log-" << k << " never arrived";
  if (exactly_once) {
    EXPECT_EQ(ids.size(), static_cast<size_t>(n));
  }
}

class EngineSinkTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()) << dir_.error(); }

  std::string SocketPath() const { return dir_.Path("engine.sock"); }

  FakeEngineOptions EngineOptions() const {
    FakeEngineOptions options;
    options.socket_path = SocketPath();
    return options;
  }

  EngineSinkOptions SinkOptions() const {
    EngineSinkOptions options;
    options.socket_path = SocketPath();
    options.reconnect_backoff_min = absl::Milliseconds(10);
    options.reconnect_backoff_max = absl::Milliseconds(200);
    options.socket_check_interval = absl::Milliseconds(50);
    return options;
  }

  std::unique_ptr<EngineSink> MakeSink(const EngineSinkOptions& options) {
    absl::StatusOr<std::unique_ptr<EngineSink>> sink = EngineSink::Create(options);
    EXPECT_TRUE(sink.ok()) << sink.status();
    return sink.ok() ? std::move(*sink) : nullptr;
  }

  static void SendRange(EngineSink& sink, int from, int to, size_t raw_bytes = 1000) {
    for (int i = from; i < to; ++i) {
      absl::Status s = sink.Send(MakeLog(i, raw_bytes), absl::Now() + kLong);
      ASSERT_TRUE(s.ok()) << "log-" << i << ": " << s;
    }
  }

  fake_engine::ShortTempDir dir_{"sink"};
};

TEST_F(EngineSinkTest, AckEachDeliversEveryLogOnceInOrderAndRecordsIt) {
  FakeEngineOptions engine_options = EngineOptions();
  engine_options.record_path = dir_.Path("record.jsonl");
  FakeEngine engine(engine_options);
  ASSERT_TRUE(engine.Start().ok());
  auto sink = MakeSink(SinkOptions());
  ASSERT_NE(sink, nullptr);

  SendRange(*sink, 0, 2000);
  ASSERT_TRUE(sink->Flush(absl::Now() + kLong).ok());

  EngineSinkStats stats = sink->stats();
  EXPECT_EQ(stats.taken, 2000u);
  EXPECT_EQ(stats.acked, 2000u);
  EXPECT_EQ(stats.sent, 2000u);
  EXPECT_EQ(stats.resent, 0u);
  EXPECT_EQ(stats.reconnects, 0u);
  EXPECT_EQ(stats.unmatched_acks, 0u);
  EXPECT_EQ(stats.pending_logs, 0u);
  EXPECT_EQ(stats.pending_bytes, 0u);
  EXPECT_TRUE(stats.streaming);
  ExpectAllInOrder(engine.received_ids(), engine.received_streams(), 2000, true);

  // The record file holds the same Logs, byte for byte, in the same order.
  ASSERT_TRUE(engine.FlushRecord().ok());
  std::ifstream in(engine_options.record_path);
  int line_number = 0;
  for (std::string line; std::getline(in, line); ++line_number) {
    plugins::Log log;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &log).ok());
    ASSERT_EQ(log.SerializeAsString(), MakeLog(line_number).SerializeAsString());
  }
  EXPECT_EQ(line_number, 2000);
  EXPECT_TRUE(sink->Close(absl::Now() + kLong).ok());
}

TEST_F(EngineSinkTest, AckEveryNthWithAnIdleTimerAcknowledgesEverything) {
  FakeEngineOptions engine_options = EngineOptions();
  engine_options.ack_every = 7;
  engine_options.ack_idle_flush = absl::Milliseconds(20);
  FakeEngine engine(engine_options);
  ASSERT_TRUE(engine.Start().ok());
  auto sink = MakeSink(SinkOptions());
  ASSERT_NE(sink, nullptr);

  SendRange(*sink, 0, 1000);
  ASSERT_TRUE(sink->Flush(absl::Now() + kLong).ok());
  EXPECT_EQ(sink->stats().acked, 1000u);
  EXPECT_EQ(sink->stats().unmatched_acks, 0u);
  EXPECT_LT(engine.acked_count(), 1000u);  // the engine really acked only some
  ExpectAllInOrder(engine.received_ids(), engine.received_streams(), 1000, true);
}

TEST_F(EngineSinkTest, AckEveryNthWithoutTimerLeavesTheTailPendingHonestly) {
  FakeEngineOptions engine_options = EngineOptions();
  engine_options.ack_every = 10;
  FakeEngine engine(engine_options);
  ASSERT_TRUE(engine.Start().ok());
  auto sink = MakeSink(SinkOptions());
  ASSERT_NE(sink, nullptr);

  SendRange(*sink, 0, 25);
  absl::Status s = sink->Flush(absl::Now() + absl::Milliseconds(300));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(s.message(), HasSubstr("did not acknowledge 5 of the logs"));
  EXPECT_THAT(s.message(), HasSubstr("first id log-20, last id log-24"));
  EXPECT_EQ(sink->stats().acked, 20u);

  SendRange(*sink, 25, 30);  // the 30th Log is an Nth: its ack covers the tail
  EXPECT_TRUE(sink->Flush(absl::Now() + kLong).ok());
  EXPECT_EQ(sink->stats().acked, 30u);
  ExpectAllInOrder(engine.received_ids(), engine.received_streams(), 30, true);
}

TEST_F(EngineSinkTest, LateAcksMakeFlushWaitAndShortFlushesReportIt) {
  FakeEngineOptions engine_options = EngineOptions();
  engine_options.ack_delay = absl::Milliseconds(300);
  FakeEngine engine(engine_options);
  ASSERT_TRUE(engine.Start().ok());
  auto sink = MakeSink(SinkOptions());
  ASSERT_NE(sink, nullptr);

  const absl::Time start = absl::Now();
  SendRange(*sink, 0, 100);
  EXPECT_EQ(sink->Flush(absl::Now() + absl::Milliseconds(50)).code(),
            absl::StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(sink->Flush(absl::Now() + kLong).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  ExpectAllInOrder(engine.received_ids(), engine.received_streams(), 100, true);
}

TEST_F(EngineSinkTest, NeverAckFlushTimesOutAndCloseReportsTheExactCount) {
  FakeEngineOptions engine_options = EngineOptions();
  engine_options.ack_every = 0;
  FakeEngine engine(engine_options);
  ASSERT_TRUE(engine.Start().ok());
  auto sink = MakeSink(SinkOptions());
  ASSERT_NE(sink, nullptr);

  SendRange(*sink, 0, 7);
  ASSERT_TRUE(engine.WaitForCount(7, kLong));  // delivered, just never acked
  absl::Status flushed = sink->Flush(absl::Now() + absl::Milliseconds(200));
  EXPECT_EQ(flushed.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(flushed.message(), HasSubstr("did not acknowledge 7 of the logs"));
  EXPECT_THAT(flushed.message(), HasSubstr("0 logs acknowledged on it"));

  absl::Status closed = sink->Close(absl::Now() + absl::Milliseconds(200));
  EXPECT_EQ(closed.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(closed.message(),
              HasSubstr("closed with 7 logs not acknowledged by the engine "
                        "(first id log-0, last id log-6)"));
  EXPECT_EQ(sink->Close(absl::Now()).message(), closed.message());  // same answer
  std::vector<plugins::Log> left = sink->TakeUnacknowledged();
  ASSERT_EQ(left.size(), 7u);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(left[i].id(), absl::StrCat("log-", i));
  EXPECT_EQ(sink->Send(MakeLog(8), absl::Now()).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(sink->Flush(absl::Now()).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(EngineSinkTest, FullWindowMakesSendWaitUntilItsDeadlineWithoutTakingTheLog) {
  FakeEngineOptions engine_options = EngineOptions();
  engine_options.ack_every = 0;
  FakeEngine engine(engine_options);
  ASSERT_TRUE(engine.Start().ok());
  EngineSinkOptions options = SinkOptions();
  options.window_logs = 8;
  auto sink = MakeSink(options);
  ASSERT_NE(sink, nullptr);

  SendRange(*sink, 0, 8);
  const absl::Time start = absl::Now();
  absl::Status s = sink->Send(MakeLog(8), start + absl::Milliseconds(200));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(200));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(s.message(), HasSubstr("window full"));
  EXPECT_THAT(s.message(), HasSubstr("the log was not taken"));
  EXPECT_EQ(sink->stats().taken, 8u);
  EXPECT_EQ(sink->stats().pending_logs, 8u);

  // A restarted engine that acks: the 8 are resent and acknowledged, room appears.
  ASSERT_TRUE(engine.WaitForCount(8, kLong));
  engine.Stop();
  engine.set_ack_every(1);
  ASSERT_TRUE(engine.Start().ok());
  ASSERT_TRUE(sink->Send(MakeLog(8), absl::Now() + kLong).ok());
  ASSERT_TRUE(sink->Flush(absl::Now() + kLong).ok());
  EXPECT_EQ(sink->stats().resent, 8u);
  ExpectAllInOrder(engine.received_ids(), engine.received_streams(), 9, false);
}

TEST_F(EngineSinkTest, ByteWindowBoundsMemoryWhileTheEngineIsSilent) {
  FakeEngineOptions engine_options = EngineOptions();
  engine_options.ack_every = 0;
  FakeEngine engine(engine_options);
  ASSERT_TRUE(engine.Start().ok());
  EngineSinkOptions options = SinkOptions();
  options.window_bytes = 64 << 10;
  options.max_log_bytes = 16 << 10;
  auto sink = MakeSink(options);
  ASSERT_NE(sink, nullptr);

  const size_t log_bytes = MakeLog(0, 10000).ByteSizeLong();
  const size_t fit = options.window_bytes / log_bytes;  // 6 Logs of ~10 KB
  int taken = 0;
  for (int i = 0; i < 50; ++i) {
    if (!sink->Send(MakeLog(i, 10000), absl::Now() + absl::Milliseconds(20)).ok()) break;
    ++taken;
  }
  EXPECT_EQ(static_cast<size_t>(taken), fit);
  EngineSinkStats stats = sink->stats();
  EXPECT_EQ(stats.pending_bytes, fit * log_bytes);
  EXPECT_LE(stats.max_pending_bytes, options.window_bytes);
  EXPECT_THAT(sink->Close(absl::Now()).message(),
              HasSubstr(absl::StrCat("closed with ", fit, " logs not acknowledged")));
}

TEST_F(EngineSinkTest, StreamsClosedAfterKLogsAreReopenedAndNothingIsLost) {
  FakeEngineOptions engine_options = EngineOptions();
  engine_options.close_after = 100;
  FakeEngine engine(engine_options);
  ASSERT_TRUE(engine.Start().ok());
  auto sink = MakeSink(SinkOptions());
  ASSERT_NE(sink, nullptr);

  SendRange(*sink, 0, 1000);
  ASSERT_TRUE(sink->Flush(absl::Now() + kLong).ok());
  EngineSinkStats stats = sink->stats();
  EXPECT_EQ(stats.acked, 1000u);
  EXPECT_GE(stats.reconnects, 9u);
  EXPECT_GE(engine.streams_started(), 10);
  EXPECT_THAT(std::string(stats.last_error.message()),
              HasSubstr("closing the stream after 100 logs"));
  ExpectAllInOrder(engine.received_ids(), engine.received_streams(), 1000, false);
}

TEST_F(EngineSinkTest, SlowReaderPushesBackThroughFlowControlAndTheWindow) {
  FakeEngineOptions engine_options = EngineOptions();
  engine_options.read_delay = absl::Milliseconds(2);
  FakeEngine engine(engine_options);
  ASSERT_TRUE(engine.Start().ok());
  EngineSinkOptions options = SinkOptions();
  options.window_bytes = 2 << 20;
  options.max_log_bytes = 128 << 10;
  auto sink = MakeSink(options);
  ASSERT_NE(sink, nullptr);

  const absl::Time start = absl::Now();
  SendRange(*sink, 0, 200, 64 << 10);  // 12.5 MiB through a 2 MiB window
  ASSERT_TRUE(sink->Flush(absl::Now() + kLong).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(400));  // 200 reads x 2 ms
  EXPECT_LE(sink->stats().max_pending_bytes, options.window_bytes);
  ExpectAllInOrder(engine.received_ids(), engine.received_streams(), 200, true);
}

TEST_F(EngineSinkTest, FiveEngineRestartsMidStreamLoseNothing) {
  FakeEngineOptions engine_options = EngineOptions();
  engine_options.record_path = dir_.Path("record.jsonl");
  FakeEngine engine(engine_options);
  ASSERT_TRUE(engine.Start().ok());
  auto sink = MakeSink(SinkOptions());
  ASSERT_NE(sink, nullptr);

  constexpr int kLogs = 20000;
  std::thread sender([&] { SendRange(*sink, 0, kLogs); });
  for (int restart = 0; restart < 5; ++restart) {
    ASSERT_TRUE(engine.WaitForCount(engine.received_count() + 2500, kLong));
    engine.Stop();
    ASSERT_TRUE(engine.Start().ok());
  }
  sender.join();
  ASSERT_TRUE(sink->Flush(absl::Now() + kLong).ok());

  EngineSinkStats stats = sink->stats();
  EXPECT_EQ(stats.acked, static_cast<uint64_t>(kLogs));
  EXPECT_GE(stats.reconnects, 5u);
  EXPECT_GE(engine.streams_started(), 6);
  ExpectAllInOrder(engine.received_ids(), engine.received_streams(), kLogs, false);
  // Acked implies recorded: the record file has every Log too.
  ASSERT_TRUE(engine.FlushRecord().ok());
  std::ifstream in(engine_options.record_path);
  std::vector<bool> seen(kLogs, false);
  for (std::string line; std::getline(in, line);) {
    plugins::Log log;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &log).ok());
    seen[Number(log.id())] = true;
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), kLogs);
}

TEST_F(EngineSinkTest, SocketMissingAtStartIsReportedAndThenUsedOnceItAppears) {
  auto sink = MakeSink(SinkOptions());
  ASSERT_NE(sink, nullptr);
  SendRange(*sink, 0, 50);  // taken into the window while nothing listens

  absl::Status s = sink->Flush(absl::Now() + absl::Milliseconds(300));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(s.message(),
              HasSubstr(absl::StrCat("engine socket ", SocketPath(),
                                     " does not exist: is the UTMStack engine running? "
                                     "set engine.socket")));
  EXPECT_EQ(sink->stats().last_error.code(), absl::StatusCode::kUnavailable);

  FakeEngine engine(EngineOptions());
  ASSERT_TRUE(engine.Start().ok());
  ASSERT_TRUE(sink->Flush(absl::Now() + kLong).ok());
  ExpectAllInOrder(engine.received_ids(), engine.received_streams(), 50, true);
}

TEST_F(EngineSinkTest, AStaleSocketFileWithNoListenerIsRetried) {
  {
    FakeEngine gone(EngineOptions());
    ASSERT_TRUE(gone.Start().ok());
    // Leave a socket file behind with nobody listening, as a crashed engine does.
    ASSERT_EQ(::link(SocketPath().c_str(), dir_.Path("stale.sock").c_str()), 0);
  }
  ASSERT_EQ(::rename(dir_.Path("stale.sock").c_str(), SocketPath().c_str()), 0);
  auto sink = MakeSink(SinkOptions());
  ASSERT_NE(sink, nullptr);
  SendRange(*sink, 0, 5);
  absl::Status s = sink->Flush(absl::Now() + absl::Milliseconds(300));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(s.message(), HasSubstr("ended with gRPC code 14"));

  FakeEngine engine(EngineOptions());  // replaces the stale file
  ASSERT_TRUE(engine.Start().ok());
  ASSERT_TRUE(sink->Flush(absl::Now() + kLong).ok());
  ExpectAllInOrder(engine.received_ids(), engine.received_streams(), 5, true);
}

TEST_F(EngineSinkTest, ReplacedSocketFileMovesTheStreamToTheNewEngine) {
  FakeEngineOptions silent_options = EngineOptions();
  silent_options.ack_every = 0;  // the old engine takes Logs but never acks them
  FakeEngine old_engine(silent_options);
  ASSERT_TRUE(old_engine.Start().ok());
  auto sink = MakeSink(SinkOptions());
  ASSERT_NE(sink, nullptr);
  SendRange(*sink, 0, 10);
  ASSERT_TRUE(old_engine.WaitForCount(10, kLong));

  // A new engine binds the same path while the old one still runs.
  FakeEngine new_engine(EngineOptions());
  ASSERT_TRUE(new_engine.Start().ok());
  ASSERT_TRUE(new_engine.WaitForStreams(1, kLong));
  SendRange(*sink, 10, 20);
  ASSERT_TRUE(sink->Flush(absl::Now() + kLong).ok());

  // The unacknowledged 10 were resent to the new engine, followed by the rest.
  ExpectAllInOrder(new_engine.received_ids(), new_engine.received_streams(), 20, true);
  EXPECT_EQ(sink->stats().resent, 10u);
  EXPECT_EQ(sink->stats().reconnects, 1u);
  EXPECT_THAT(std::string(sink->stats().last_error.message()), HasSubstr("was replaced"));
  EXPECT_TRUE(sink->Close(absl::Now() + kLong).ok());
}

TEST_F(EngineSinkTest, LogsTheEngineCouldNeverDecodeAreRefusedAndTheStreamGoesOn) {
  FakeEngine engine(EngineOptions());
  ASSERT_TRUE(engine.Start().ok());
  EngineSinkOptions options = SinkOptions();
  options.max_log_bytes = 4096;
  auto sink = MakeSink(options);
  ASSERT_NE(sink, nullptr);

  plugins::Log bad_utf8 = MakeLog(0);
  bad_utf8.set_raw("{\"user\":\"j\xFCrgen\"}");
  absl::Status s = sink->Send(bad_utf8, absl::Now() + kLong);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("log log-0: field raw is not valid UTF-8"));

  s = sink->Send(MakeLog(0, 5000), absl::Now() + kLong);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("over the 4096-byte limit"));

  SendRange(*sink, 0, 3);
  ASSERT_TRUE(sink->Flush(absl::Now() + kLong).ok());
  ExpectAllInOrder(engine.received_ids(), engine.received_streams(), 3, true);
  EXPECT_EQ(sink->stats().taken, 3u);
}

TEST_F(EngineSinkTest, RepeatedIdsAreMatchedByPosition) {
  FakeEngine engine(EngineOptions());
  ASSERT_TRUE(engine.Start().ok());
  auto sink = MakeSink(SinkOptions());
  ASSERT_NE(sink, nullptr);
  for (const char* id : {"a", "b", "a", "c", "a"}) {
    plugins::Log log = MakeLog(0);
    log.set_id(id);
    ASSERT_TRUE(sink->Send(log, absl::Now() + kLong).ok());
  }
  ASSERT_TRUE(sink->Flush(absl::Now() + kLong).ok());
  EXPECT_EQ(sink->stats().acked, 5u);
  EXPECT_EQ(sink->stats().unmatched_acks, 0u);
  EXPECT_THAT(engine.received_ids(), ::testing::ElementsAre("a", "b", "a", "c", "a"));
}

TEST_F(EngineSinkTest, ConcurrentSendersKeepTheirOwnOrder) {
  FakeEngine engine(EngineOptions());
  ASSERT_TRUE(engine.Start().ok());
  EngineSinkOptions options = SinkOptions();
  options.window_logs = 64;  // make the senders contend for room
  auto sink = MakeSink(options);
  ASSERT_NE(sink, nullptr);
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&sink, t] { SendRange(*sink, t * 1000, t * 1000 + 500); });
  }
  for (std::thread& t : senders) t.join();
  ASSERT_TRUE(sink->Flush(absl::Now() + kLong).ok());
  std::vector<int> last(4, -1);
  std::vector<std::string> ids = engine.received_ids();
  ASSERT_EQ(ids.size(), 2000u);
  for (const std::string& id : ids) {
    const int k = Number(id);
    const int t = k / 1000;
    EXPECT_GT(k, last[t]);
    last[t] = k;
  }
}

TEST_F(EngineSinkTest, GracefulCloseHalfClosesAfterEverythingIsAcknowledged) {
  FakeEngine engine(EngineOptions());
  ASSERT_TRUE(engine.Start().ok());
  auto sink = MakeSink(SinkOptions());
  ASSERT_NE(sink, nullptr);
  SendRange(*sink, 0, 10);
  EXPECT_TRUE(sink->Close(absl::Now() + kLong).ok());
  EXPECT_EQ(sink->stats().acked, 10u);
  EXPECT_FALSE(sink->stats().streaming);
  EXPECT_EQ(engine.active_streams(), 0);
  EXPECT_TRUE(sink->TakeUnacknowledged().empty());
}

// An Input server that answers the first Log of each stream with bytes that are not a
// plugins.Ack (an id that is not UTF-8 cannot be decoded) and then keeps reading, as a
// process on the socket that is not the engine might.
class NotAnEngine final : public plugins::Engine::Service {
 public:
  grpc::Status Input(grpc::ServerContext* /*context*/,
                     grpc::ServerReaderWriter<plugins::Ack, plugins::Log>* stream) override {
    streams.fetch_add(1);
    plugins::Log log;
    bool answered = false;
    while (stream->Read(&log)) {
      if (!answered) {
        plugins::Ack ack;
        ack.set_lastid("\xff\xfe is not UTF-8");
        answered = true;
        if (!stream->Write(ack)) break;
      }
    }
    return grpc::Status::OK;
  }
  std::atomic<int> streams{0};
};

TEST_F(EngineSinkTest, AReplyThatIsNotAnAckEndsTheStreamAndTheSinkTriesAgain) {
  NotAnEngine service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix://" + SocketPath(), grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  std::unique_ptr<EngineSink> sink = MakeSink(SinkOptions());
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->Send(MakeLog(0), absl::Now() + kLong).ok());
  // The stream the sink gave up on must end (the server keeps it open), so that the
  // sink opens the next one instead of waiting for that end for ever.
  const absl::Time until = absl::Now() + absl::Seconds(20);
  while (service.streams.load() < 3 && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE(service.streams.load(), 3);
  EXPECT_THAT(sink->stats().last_error.message(), HasSubstr("not a plugins.Ack"));
  const absl::Time closing = absl::Now();
  const absl::Status closed = sink->Close(absl::Now() + absl::Milliseconds(200));
  EXPECT_EQ(closed.code(), absl::StatusCode::kDeadlineExceeded) << closed;
  EXPECT_THAT(closed.message(), HasSubstr("log-0"));
  EXPECT_LT(absl::Now() - closing, absl::Seconds(5));
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

TEST_F(EngineSinkTest, CloseFromTwoThreadsAtOnceReturnsTheSameResultToBoth) {
  FakeEngine engine(EngineOptions());
  ASSERT_TRUE(engine.Start().ok());
  for (int round = 0; round < 20; ++round) {
    std::unique_ptr<EngineSink> sink = MakeSink(SinkOptions());
    ASSERT_NE(sink, nullptr);
    SendRange(*sink, 0, 10);
    absl::Status first, second;
    std::thread other([&] { second = sink->Close(absl::Now() + kLong); });
    first = sink->Close(absl::Now() + kLong);
    other.join();
    EXPECT_TRUE(first.ok()) << first;
    EXPECT_TRUE(second.ok()) << second;
  }
}

TEST(EngineSinkOptionsTest, RejectsSocketPathsTheKernelCannotBind) {
  EngineSinkOptions options;
  options.socket_path = "/workdir/" + std::string(100, 'w') + "/engine_server.sock";
  absl::StatusOr<std::unique_ptr<EngineSink>> sink = EngineSink::Create(options);
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(sink.status().message(), HasSubstr("over the 107-byte limit"));

  options.socket_path = "sockets/engine_server.sock";
  sink = EngineSink::Create(options);
  EXPECT_EQ(sink.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(sink.status().message(), HasSubstr("must be an absolute path"));
}

TEST(EngineSinkOptionsTest, RejectsWindowsThatCannotHoldALog) {
  EngineSinkOptions options;
  options.socket_path = "/tmp/engine.sock";
  options.window_logs = 0;
  EXPECT_EQ(EngineSink::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.window_logs = 10;
  options.window_bytes = 1 << 20;
  options.max_log_bytes = 2 << 20;
  absl::Status s = EngineSink::Create(options).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("max_log_bytes"));
  options.max_log_bytes = 1 << 20;
  options.reconnect_backoff_max = absl::Milliseconds(1);
  EXPECT_EQ(EngineSink::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace utmstack_sink
