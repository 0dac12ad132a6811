// Runs the fake_engine_main program the way the demo does and talks to it.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/plugins.grpc.pb.h"
#include "proto/plugins.pb.h"
#include "testdata/fake_engine/short_temp_dir.h"

namespace fake_engine {
namespace {

using ::testing::HasSubstr;

// Reads from `fd` until `needle` appears, EOF, or `timeout`; returns what was read.
std::string ReadUntil(int fd, const std::string& needle, absl::Duration timeout) {
  std::string out;
  const absl::Time deadline = absl::Now() + timeout;
  while (out.find(needle) == std::string::npos) {
    const int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left_ms <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left_ms)) <= 0) break;
    char buffer[512];
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

TEST(FakeEngineMainTest, ListensAcksRecordsAndStopsOnSigterm) {
  ShortTempDir dir("fem");
  ASSERT_TRUE(dir.ok()) << dir.error();
  const std::string socket = dir.Path("engine_server.sock");
  const std::string record = dir.Path("events.jsonl");
  const std::string ready = dir.Path("ready");

  int out_pipe[2];
  ASSERT_EQ(::pipe(out_pipe), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::close(out_pipe[0]);
    const std::string a1 = "--socket=" + socket, a2 = "--record=" + record,
                      a3 = "--ready_file=" + ready;
    ::execl("testdata/fake_engine/fake_engine_main", "fake_engine_main", a1.c_str(),
            a2.c_str(), a3.c_str(), "--ack_every=1", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  const std::string banner = ReadUntil(out_pipe[0], "\n", absl::Seconds(20));
  ASSERT_THAT(banner, HasSubstr("fake_engine: listening on unix://" + socket));
  {
    std::ifstream in(ready);
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(line, socket);
  }

  auto stub = plugins::Engine::NewStub(
      grpc::CreateChannel("unix://" + socket, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto stream = stub->Input(&context);
  for (int i = 0; i < 3; ++i) {
    plugins::Log log;
    log.set_id(absl::StrCat("demo-", i));
    log.set_raw("{\"n\":1}");
    ASSERT_TRUE(stream->Write(log));
    plugins::Ack ack;
    ASSERT_TRUE(stream->Read(&ack));
    EXPECT_EQ(ack.lastid(), log.id());
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());

  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  const std::string summary = ReadUntil(out_pipe[0], "acks\n", absl::Seconds(20));
  EXPECT_THAT(summary, HasSubstr("received 3 logs, sent 3 acks"));
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ::close(out_pipe[0]);

  std::ifstream in(record);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "{\"id\":\"demo-0\",\"raw\":\"{\\\"n\\\":1}\"}");
  EXPECT_EQ(::access(socket.c_str(), F_OK), -1);  // socket removed on exit
}

}  // namespace
}  // namespace fake_engine
