#include "testdata/fake_engine/fake_engine.h"

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/plugins.grpc.pb.h"
#include "proto/plugins.pb.h"
#include "testdata/fake_engine/short_temp_dir.h"

namespace fake_engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

plugins::Log MakeLog(int i, size_t raw_bytes = 16) {
  plugins::Log log;
  log.set_id(absl::StrCat("l", i));
  log.set_datatype("azure");
  log.set_raw(std::string(raw_bytes, 'r'));
  return log;
}

// One raw Input stream to the engine, as UTMStack's own client opens it.
struct Client {
  explicit Client(const std::string& target)
      : stub(plugins::Engine::NewStub(
            grpc::CreateChannel(target, grpc::InsecureChannelCredentials()))) {
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    stream = stub->Input(&context);
  }
  std::unique_ptr<plugins::Engine::Stub> stub;
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<plugins::Log, plugins::Ack>> stream;
};

class FakeEngineTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()) << dir_.error(); }
  FakeEngineOptions Options() {
    FakeEngineOptions options;
    options.socket_path = dir_.Path("engine.sock");
    return options;
  }
  ShortTempDir dir_{"fake"};
};

TEST_F(FakeEngineTest, AcksEachLogInOrderAndRecordsJsonLines) {
  FakeEngineOptions options = Options();
  options.record_path = dir_.Path("record.jsonl");
  FakeEngine engine(options);
  ASSERT_TRUE(engine.Start().ok());
  Client client(engine.target());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client.stream->Write(MakeLog(i)));
    plugins::Ack ack;
    ASSERT_TRUE(client.stream->Read(&ack));
    EXPECT_EQ(ack.lastid(), absl::StrCat("l", i));
  }
  ASSERT_TRUE(client.stream->WritesDone());
  plugins::Ack ack;
  EXPECT_FALSE(client.stream->Read(&ack));
  EXPECT_TRUE(client.stream->Finish().ok());

  ASSERT_EQ(engine.received().size(), 20u);
  EXPECT_EQ(engine.acked_ids(), engine.received_ids());
  EXPECT_EQ(engine.received_streams(), std::vector<int>(20, 1));
  // Every acked Log is in the record file before its ack went out.
  std::ifstream in(options.record_path);
  int n = 0;
  for (std::string line; std::getline(in, line); ++n) {
    plugins::Log log;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &log).ok()) << line;
    EXPECT_EQ(log.SerializeAsString(), MakeLog(n).SerializeAsString());
  }
  EXPECT_EQ(n, 20);
}

TEST_F(FakeEngineTest, AckEveryNthLeavesTheTailUntilTheIdleTimer) {
  FakeEngineOptions options = Options();
  options.ack_every = 5;
  FakeEngine engine(options);
  ASSERT_TRUE(engine.Start().ok());
  Client client(engine.target());
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(client.stream->Write(MakeLog(i)));
  plugins::Ack ack;
  ASSERT_TRUE(client.stream->Read(&ack));
  EXPECT_EQ(ack.lastid(), "l4");
  ASSERT_TRUE(client.stream->Read(&ack));
  EXPECT_EQ(ack.lastid(), "l9");
  ASSERT_TRUE(engine.WaitForCount(12, absl::Seconds(10)));
  // The engine notes an ack once its write returned, which can be after the client
  // already read it: wait (bounded) for the note.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (engine.acked_ids().size() < 2 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_THAT(engine.acked_ids(), ElementsAre("l4", "l9"));
  // A batching engine's timer acks the partial batch.
  engine.set_ack_idle_flush(absl::Milliseconds(20));
  ASSERT_TRUE(client.stream->Read(&ack));
  EXPECT_EQ(ack.lastid(), "l11");
  client.context.TryCancel();
}

TEST_F(FakeEngineTest, NeverAckReadsEverythingAndAcksNothing) {
  FakeEngineOptions options = Options();
  options.ack_every = 0;
  FakeEngine engine(options);
  ASSERT_TRUE(engine.Start().ok());
  Client client(engine.target());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.stream->Write(MakeLog(i)));
  ASSERT_TRUE(client.stream->WritesDone());
  plugins::Ack ack;
  EXPECT_FALSE(client.stream->Read(&ack));  // stream ends without a single ack
  EXPECT_TRUE(client.stream->Finish().ok());
  EXPECT_EQ(engine.received_count(), 5u);
  EXPECT_EQ(engine.acked_count(), 0u);
}

TEST_F(FakeEngineTest, AckDelayHoldsEachAckBack) {
  FakeEngineOptions options = Options();
  options.ack_delay = absl::Milliseconds(300);
  FakeEngine engine(options);
  ASSERT_TRUE(engine.Start().ok());
  Client client(engine.target());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(client.stream->Write(MakeLog(0)));
  ASSERT_TRUE(client.stream->Write(MakeLog(1)));
  ASSERT_TRUE(engine.WaitForCount(2, absl::Seconds(10)));
  EXPECT_EQ(engine.acked_count(), 0u);  // both read, neither acked yet
  plugins::Ack ack;
  ASSERT_TRUE(client.stream->Read(&ack));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  EXPECT_EQ(ack.lastid(), "l0");
  ASSERT_TRUE(client.stream->Read(&ack));
  EXPECT_EQ(ack.lastid(), "l1");
  client.context.TryCancel();
}

TEST_F(FakeEngineTest, CloseAfterKEndsEachStreamWithUnavailable) {
  FakeEngineOptions options = Options();
  options.close_after = 3;
  FakeEngine engine(options);
  ASSERT_TRUE(engine.Start().ok());
  for (int round = 0; round < 2; ++round) {
    Client client(engine.target());
    for (int i = 0; i < 5; ++i) {
      if (!client.stream->Write(MakeLog(i))) break;  // may fail once the stream ended
    }
    std::vector<std::string> acks;
    plugins::Ack ack;
    while (client.stream->Read(&ack)) acks.push_back(ack.lastid());
    grpc::Status status = client.stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_THAT(status.error_message(), HasSubstr("closing the stream after 3 logs"));
    // Acks that were due went out before the stream ended, in order.
    for (size_t i = 0; i < acks.size(); ++i) EXPECT_EQ(acks[i], absl::StrCat("l", i));
  }
  EXPECT_EQ(engine.received_count(), 6u);
  EXPECT_EQ(engine.streams_started(), 2);
  EXPECT_THAT(engine.received_streams(), ElementsAre(1, 1, 1, 2, 2, 2));
}

TEST_F(FakeEngineTest, SlowReaderMakesFlowControlPushBack) {
  FakeEngineOptions options = Options();
  options.read_delay = absl::Milliseconds(20);
  options.keep_received = false;
  FakeEngine engine(options);
  ASSERT_TRUE(engine.Start().ok());
  Client client(engine.target());
  constexpr int kLogs = 400;  // 400 x 64 KiB = 25 MiB, far past HTTP/2's windows
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; i < kLogs; ++i) {
      if (!client.stream->Write(MakeLog(i, 64 << 10))) return;
      ++written;
    }
    client.stream->WritesDone();
  });
  // In 300 ms the engine reads at most ~15 Logs; the writer must be held back.
  ASSERT_TRUE(engine.WaitForCount(5, absl::Seconds(10)));
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_LT(written.load(), kLogs);
  EXPECT_LT(engine.received_count(), 40u);
  engine.set_read_delay(absl::ZeroDuration());
  writer.join();
  EXPECT_EQ(written.load(), kLogs);
  int acks = 0;
  plugins::Ack ack;
  while (client.stream->Read(&ack)) ++acks;
  EXPECT_EQ(acks, kLogs);
  EXPECT_TRUE(client.stream->Finish().ok());
}

TEST_F(FakeEngineTest, StopRemovesTheSocketAndStartComesBackOnTheSamePath) {
  FakeEngine engine(Options());
  ASSERT_TRUE(engine.Start().ok());
  EXPECT_TRUE(Exists(engine.socket_path()));
  EXPECT_EQ(engine.Start().code(), absl::StatusCode::kFailedPrecondition);
  {
    Client client(engine.target());
    ASSERT_TRUE(client.stream->Write(MakeLog(0)));
    ASSERT_TRUE(engine.WaitForCount(1, absl::Seconds(10)));
    engine.Stop();  // cancels the open stream
    plugins::Ack ack;
    while (client.stream->Read(&ack)) {
    }
    EXPECT_FALSE(client.stream->Finish().ok());
  }
  EXPECT_FALSE(engine.running());
  EXPECT_FALSE(Exists(engine.socket_path()));
  ASSERT_TRUE(engine.Start().ok());
  EXPECT_TRUE(Exists(engine.socket_path()));
  Client client(engine.target());
  ASSERT_TRUE(client.stream->Write(MakeLog(1)));
  plugins::Ack ack;
  ASSERT_TRUE(client.stream->Read(&ack));
  EXPECT_EQ(ack.lastid(), "l1");
  EXPECT_THAT(engine.received_ids(), ElementsAre("l0", "l1"));
  EXPECT_EQ(engine.streams_started(), 2);
  client.context.TryCancel();
}

TEST_F(FakeEngineTest, StopEndsStreamsThatWaitOnlyForTheirTimers) {
  FakeEngineOptions options = Options();
  options.ack_delay = absl::Seconds(30);
  FakeEngine engine(options);
  ASSERT_TRUE(engine.Start().ok());
  Client waiting_acks(engine.target());
  ASSERT_TRUE(waiting_acks.stream->Write(MakeLog(0)));
  ASSERT_TRUE(waiting_acks.stream->WritesDone());  // only the ack is left to wait for
  ASSERT_TRUE(engine.WaitForCount(1, absl::Seconds(10)));
  engine.set_read_delay(absl::Seconds(30));
  Client slow_read(engine.target());
  ASSERT_TRUE(slow_read.stream->Write(MakeLog(1)));
  ASSERT_TRUE(engine.WaitForCount(2, absl::Seconds(10)));
  EXPECT_EQ(engine.active_streams(), 2);

  const absl::Time start = absl::Now();
  engine.Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(engine.active_streams(), 0);
  EXPECT_EQ(engine.acked_count(), 0u);
  plugins::Ack ack;
  EXPECT_FALSE(waiting_acks.stream->Read(&ack));
  EXPECT_FALSE(waiting_acks.stream->Finish().ok());
  EXPECT_FALSE(slow_read.stream->Read(&ack));
  EXPECT_FALSE(slow_read.stream->Finish().ok());

  engine.set_ack_delay(absl::ZeroDuration());
  engine.set_read_delay(absl::ZeroDuration());
  ASSERT_TRUE(engine.Start().ok());
  Client client(engine.target());
  ASSERT_TRUE(client.stream->Write(MakeLog(2)));
  ASSERT_TRUE(client.stream->Read(&ack));
  EXPECT_EQ(ack.lastid(), "l2");
  EXPECT_EQ(engine.streams_started(), 3);
  client.context.TryCancel();
}

TEST_F(FakeEngineTest, CloseAfterDropsAcksNotDueYet) {
  FakeEngineOptions options = Options();
  options.close_after = 2;
  options.ack_delay = absl::Seconds(30);
  FakeEngine engine(options);
  ASSERT_TRUE(engine.Start().ok());
  Client client(engine.target());
  ASSERT_TRUE(client.stream->Write(MakeLog(0)));
  ASSERT_TRUE(client.stream->Write(MakeLog(1)));
  const absl::Time start = absl::Now();
  plugins::Ack ack;
  EXPECT_FALSE(client.stream->Read(&ack));
  EXPECT_EQ(client.stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_EQ(engine.acked_count(), 0u);
}

TEST_F(FakeEngineTest, PipelinedLogsAreAllAckedInOrderAndTheStreamEnds) {
  FakeEngineOptions options = Options();
  options.record_path = dir_.Path("record.jsonl");
  FakeEngine engine(options);
  ASSERT_TRUE(engine.Start().ok());
  Client client(engine.target());
  constexpr int kLogs = 5000;
  std::thread writer([&] {
    for (int i = 0; i < kLogs; ++i) {
      grpc::WriteOptions write_options;
      if (i % 64 != 63) write_options.set_buffer_hint();
      if (!client.stream->Write(MakeLog(i), write_options)) return;
    }
    client.stream->WritesDone();
  });
  std::vector<std::string> acks;
  plugins::Ack ack;
  while (client.stream->Read(&ack)) acks.push_back(ack.lastid());
  writer.join();
  EXPECT_TRUE(client.stream->Finish().ok());
  ASSERT_EQ(acks.size(), static_cast<size_t>(kLogs));
  for (int i = 0; i < kLogs; ++i) ASSERT_EQ(acks[i], absl::StrCat("l", i));
  EXPECT_EQ(engine.acked_ids(), acks);
  EXPECT_EQ(engine.received_ids(), acks);
  EXPECT_EQ(engine.active_streams(), 0);
  // Acked implies recorded: every line is in the file without an extra flush.
  std::ifstream in(options.record_path);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  EXPECT_EQ(lines, kLogs);
}

TEST_F(FakeEngineTest, ACancelledStreamIsNoLongerActive) {
  FakeEngineOptions options = Options();
  options.ack_every = 0;
  FakeEngine engine(options);
  ASSERT_TRUE(engine.Start().ok());
  Client client(engine.target());
  ASSERT_TRUE(client.stream->Write(MakeLog(0)));
  ASSERT_TRUE(engine.WaitForCount(1, absl::Seconds(10)));
  EXPECT_EQ(engine.active_streams(), 1);
  client.context.TryCancel();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (engine.active_streams() > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(engine.active_streams(), 0);
  EXPECT_EQ(engine.streams_started(), 1);
}

TEST_F(FakeEngineTest, NotifyMessagesAreKeptAndAcked) {
  FakeEngine engine(Options());
  ASSERT_TRUE(engine.Start().ok());
  auto stub = plugins::Engine::NewStub(
      grpc::CreateChannel(engine.target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  auto stream = stub->Notify(&context);
  plugins::Message message;
  message.set_id("m1");
  message.set_topic("integration_failure");
  ASSERT_TRUE(stream->Write(message));
  plugins::Ack ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.lastid(), "m1");
  ASSERT_EQ(engine.notifications().size(), 1u);
  EXPECT_EQ(engine.notifications()[0].topic(), "integration_failure");
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(FakeEngineTest, StartRejectsASocketPathOverTheUnixLimit) {
  FakeEngineOptions options;
  options.socket_path = "/tmp/" + std::string(120, 'x') + ".sock";
  FakeEngine engine(options);
  absl::Status s = engine.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("at most 107 bytes"));
}

}  // namespace
}  // namespace fake_engine
