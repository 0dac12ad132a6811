// fake_engine_main: the fake UTMStack engine as a program, for the demo and for
// trying the connector by hand. It listens on a Unix socket, acks Logs, and appends
// each Log to a JSON-lines file if asked, until SIGTERM or SIGINT.
//
//   bazel run //testdata/fake_engine:fake_engine_main -- \
//       --socket=/tmp/demo/engine_server.sock --record=/tmp/demo/events.jsonl
//
// Prints "fake_engine: listening on unix:///tmp/demo/engine_server.sock ..." once it
// accepts connections, and writes the socket path to --ready_file at the same moment.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "testdata/fake_engine/fake_engine.h"

ABSL_FLAG(std::string, socket, "",
          "Unix socket path to listen on (at most 107 bytes), e.g. "
          "/workdir/sockets/engine_server.sock");
ABSL_FLAG(std::string, record, "",
          "append every received Log to this file as one JSON line (optional)");
ABSL_FLAG(int, ack_every, 1, "1: ack each Log; N: ack every Nth Log; 0: never ack");
ABSL_FLAG(std::string, ready_file, "",
          "once listening, write the socket path to this file (optional)");
ABSL_FLAG(absl::Duration, ack_delay, absl::ZeroDuration(),
          "slow engine: each ack leaves this long after its Log arrived, e.g. 50ms");
ABSL_FLAG(absl::Duration, read_delay, absl::ZeroDuration(),
          "slow engine: sleep this long after reading each Log (backpressure), e.g. 1ms");
ABSL_FLAG(
    int, close_after, 0,
    "flaky engine: end each stream with UNAVAILABLE after reading this many Logs on "
    "it (0: never)");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Runs a fake UTMStack engine (plugins.Engine gRPC service) on a Unix socket "
      "until SIGTERM or SIGINT.");
  absl::ParseCommandLine(argc, argv);
  const std::string socket = absl::GetFlag(FLAGS_socket);
  if (socket.empty()) {
    std::fprintf(stderr, "fake_engine: --socket is required\n");
    return 2;
  }
  if (absl::GetFlag(FLAGS_ack_every) < 0) {
    std::fprintf(stderr, "fake_engine: --ack_every must be 0 or more\n");
    return 2;
  }

  // Block the stop signals before gRPC starts its threads, so they inherit the mask
  // and only sigwait() below sees the signals.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  fake_engine::FakeEngineOptions options;
  options.socket_path = socket;
  options.record_path = absl::GetFlag(FLAGS_record);
  options.ack_every = absl::GetFlag(FLAGS_ack_every);
  options.keep_received = false;  // a long demo run must not grow without bound
  options.ack_delay = absl::GetFlag(FLAGS_ack_delay);
  options.read_delay = absl::GetFlag(FLAGS_read_delay);
  options.close_after = absl::GetFlag(FLAGS_close_after);
  if (options.ack_delay < absl::ZeroDuration() ||
      options.read_delay < absl::ZeroDuration() || options.close_after < 0) {
    std::fprintf(stderr,
                 "fake_engine: --ack_delay, --read_delay and --close_after must not "
                 "be negative\n");
    return 2;
  }
  // A batching engine acks its partial batch on a timer; without one a client's
  // Flush would wait for the next Nth Log forever.
  if (options.ack_every > 1) options.ack_idle_flush = absl::Milliseconds(200);
  fake_engine::FakeEngine engine(options);
  if (absl::Status s = engine.Start(); !s.ok()) {
    std::fprintf(stderr, "fake_engine: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  const std::string ready_file = absl::GetFlag(FLAGS_ready_file);
  if (!ready_file.empty()) {
    std::ofstream out(ready_file);
    out << socket << "\n";
    if (!out.good()) {
      std::fprintf(stderr, "fake_engine: cannot write --ready_file %s\n",
                   ready_file.c_str());
      return 1;
    }
  }
  std::printf("fake_engine: listening on %s (ack_every=%d, record=%s)\n",
              engine.target().c_str(), options.ack_every,
              options.record_path.empty() ? "none" : options.record_path.c_str());
  if (options.ack_delay > absl::ZeroDuration() ||
      options.read_delay > absl::ZeroDuration() || options.close_after > 0) {
    std::printf("fake_engine: ack_delay=%s read_delay=%s close_after=%d\n",
                absl::FormatDuration(options.ack_delay).c_str(),
                absl::FormatDuration(options.read_delay).c_str(), options.close_after);
  }
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  engine.Stop();
  absl::Status flushed = engine.FlushRecord();
  std::printf("fake_engine: stopped by signal %d; received %llu logs, sent %llu acks\n",
              signal_number, static_cast<unsigned long long>(engine.received_count()),
              static_cast<unsigned long long>(engine.acked_count()));
  if (!flushed.ok()) {
    std::fprintf(stderr, "fake_engine: %s\n", std::string(flushed.message()).c_str());
    return 1;
  }
  return 0;
}
