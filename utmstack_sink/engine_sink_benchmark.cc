// Logs per second of 1 KB Logs to the fake engine (acking each Log) over a Unix
// socket, three ways:
//   BM_EngineSink_Pipelined   EngineSink: many Logs in flight, coalesced writes
//   BM_Lockstep_SendThenRecv  UTMStack's Go plugin pattern on the raw stub: write one
//                             Log, read its Ack, repeat
//   BM_AsyncClientCeiling     the least a client can do on this engine (see there)
// and the ratios between them. The engine runs in this process (it shares the
// machine's cores with the client, as it would on a UTMStack node) and keeps no
// copies of what it reads.
//
// Each benchmark runs 5 times, the runs of all three shuffled together, and the
// summary gives medians (with the range): on a shared machine the speed of everything
// drifts by a quarter within minutes, so only figures measured side by side compare.
//
//   bazel run -c opt //utmstack_sink:engine_sink_benchmark
//   bazel run -c opt //utmstack_sink:engine_sink_benchmark -- --benchmark_repetitions=9
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <sys/resource.h>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "grpcpp/grpcpp.h"
#include "proto/plugins.grpc.pb.h"
#include "proto/plugins.pb.h"
#include "testdata/fake_engine/fake_engine.h"
#include "testdata/fake_engine/short_temp_dir.h"
#include "utmstack_sink/engine_sink.h"

namespace {

constexpr size_t kRawBytes = 1024;

// The engine every benchmark talks to.
struct Engine {
  Engine() : dir("sinkbm") {
    fake_engine::FakeEngineOptions options;
    options.socket_path = dir.Path("engine.sock");
    options.keep_received = false;
    engine = std::make_unique<fake_engine::FakeEngine>(options);
    if (!dir.ok() || !engine->Start().ok()) {
      std::fprintf(stderr, "cannot start the fake engine in %s\n", dir.path().c_str());
      std::abort();
    }
  }
  fake_engine::ShortTempDir dir;
  std::unique_ptr<fake_engine::FakeEngine> engine;
};

std::unique_ptr<Engine> g_engine;  // started on first use, removed at exit

Engine& TheEngine() {
  if (g_engine == nullptr) g_engine = std::make_unique<Engine>();
  return *g_engine;
}

plugins::Log TemplateLog() {
  plugins::Log log;
  log.set_datatype("azure");
  log.set_datasource("bench-group");
  log.set_timestamp("2024-05-01T10:00:00.123456789Z");
  log.set_tenantid("ce66672c-e36d-4761-a8c8-90058fee1a24");
  std::string raw = "{\"TimeGenerated\":\"2024-05-01T10:00:00Z\",\"Data\":\"";
  raw.append(kRawBytes - raw.size() - 2, 'a');
  raw += "\"}";
  log.set_raw(raw);
  return log;
}

size_t PeakRssBytes() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoul(line.substr(6)) * 1024;
  }
  return 0;
}

// CPU time of the whole process (every thread: sink, engine, gRPC), in seconds. Per
// Log, it compares variants more steadily than throughput on a machine whose cores are
// shared: time the process is not given the CPU does not count.
double ProcessCpuSeconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void SetCpuPerLog(benchmark::State& state, double cpu_start, uint64_t logs) {
  if (logs == 0) return;
  state.counters["cpu_us_per_log"] = (ProcessCpuSeconds() - cpu_start) * 1e6 / logs;
}

size_t g_max_pending_bytes = 0;
utmstack_sink::EngineSinkOptions g_sink_options;

void BM_EngineSink_Pipelined(benchmark::State& state) {
  Engine& engine = TheEngine();
  utmstack_sink::EngineSinkOptions options;
  options.socket_path = engine.engine->socket_path();
  g_sink_options = options;
  auto sink = utmstack_sink::EngineSink::Create(options);
  if (!sink.ok()) {
    state.SkipWithError(std::string(sink.status().message()).c_str());
    return;
  }
  const plugins::Log tmpl = TemplateLog();
  uint64_t i = 0;
  const uint64_t last = static_cast<uint64_t>(state.max_iterations);
  const double cpu_start = ProcessCpuSeconds();
  for (auto _ : state) {
    plugins::Log log = tmpl;
    log.set_id(absl::StrCat("bm-", i++));
    if (!(*sink)->Send(std::move(log), absl::Now() + absl::Seconds(30)).ok()) {
      state.SkipWithError("Send failed");
      return;
    }
    // The time counts until the engine has acknowledged every Log (the lockstep
    // pattern's last Log is acknowledged within its own iteration too).
    if (i == last && !(*sink)->Flush(absl::Now() + absl::Seconds(60)).ok()) {
      state.SkipWithError("Flush failed");
      return;
    }
  }
  SetCpuPerLog(state, cpu_start, state.iterations());
  const utmstack_sink::EngineSinkStats stats = (*sink)->stats();
  if (stats.acked != i) {
    state.SkipWithError("the timed loop ended before every Log was acknowledged");
    return;
  }
  g_max_pending_bytes = std::max(g_max_pending_bytes, stats.max_pending_bytes);
  state.counters["max_pending_KiB"] = static_cast<double>(stats.max_pending_bytes) / 1024;
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * tmpl.ByteSizeLong()));
  (void)(*sink)->Close(absl::Now() + absl::Seconds(10));
}
BENCHMARK(BM_EngineSink_Pipelined)->UseRealTime()->MinTime(2.0);

void BM_Lockstep_SendThenRecv(benchmark::State& state) {
  Engine& engine = TheEngine();
  auto stub = plugins::Engine::NewStub(
      grpc::CreateChannel(engine.engine->target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  auto stream = stub->Input(&context);
  const plugins::Log tmpl = TemplateLog();
  uint64_t i = 0;
  plugins::Ack ack;
  const double cpu_start = ProcessCpuSeconds();
  for (auto _ : state) {
    plugins::Log log = tmpl;
    log.set_id(absl::StrCat("bm-", i++));
    if (!stream->Write(log) || !stream->Read(&ack) || ack.lastid() != log.id()) {
      state.SkipWithError("lockstep stream failed");
      return;
    }
  }
  SetCpuPerLog(state, cpu_start, state.iterations());
  stream->WritesDone();
  (void)stream->Finish();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * tmpl.ByteSizeLong()));
}
BENCHMARK(BM_Lockstep_SendThenRecv)->UseRealTime()->MinTime(2.0);


// The ceiling this engine and gRPC allow a client: the completion-queue API driven by
// one thread, one write and one read in flight, a 4096-Log window, and none of the
// sink's bookkeeping (no queue, no validation, no acks matched). Not a usable sink:
// it shows how much of the time is the engine's and gRPC's.
void BM_AsyncClientCeiling(benchmark::State& state) {
  Engine& engine = TheEngine();
  utmstack_sink::EngineSinkOptions options;
  options.socket_path = engine.engine->socket_path();
  auto stub = plugins::Engine::NewStub(utmstack_sink::MakeEngineChannel(options));
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  auto stream = stub->PrepareAsyncInput(&context, &cq);
  void* const kStarted = reinterpret_cast<void*>(1);
  void* const kWritten = reinterpret_cast<void*>(2);
  void* const kAckRead = reinterpret_cast<void*>(3);
  void* tag = nullptr;
  bool ok = false;
  stream->StartCall(kStarted);
  if (!cq.Next(&tag, &ok) || !ok) {
    state.SkipWithError("stream did not start");
    return;
  }
  constexpr uint64_t kLogs = 500000;
  plugins::Log log = TemplateLog();
  plugins::Ack ack;
  uint64_t written = 0, acked = 0;
  bool writing = false;
  const auto write_next = [&] {
    if (writing || written >= kLogs || written - acked >= 4096) return;
    log.set_id(absl::StrCat("bm-", written));
    grpc::WriteOptions write_options;
    // Flush every 64 Logs and at the end; the others are coalesced.
    if ((written & 63) != 63 && written + 1 < kLogs) write_options.set_buffer_hint();
    stream->Write(log, write_options, kWritten);
    writing = true;
    ++written;
  };
  const double cpu_start = ProcessCpuSeconds();
  for (auto _ : state) {
    stream->Read(&ack, kAckRead);
    write_next();
    while (acked < kLogs) {
      if (!cq.Next(&tag, &ok) || !ok) {
        state.SkipWithError("stream failed");
        return;
      }
      if (tag == kWritten) {
        writing = false;
      } else if (++acked < kLogs) {
        stream->Read(&ack, kAckRead);
      }
      write_next();
    }
  }
  SetCpuPerLog(state, cpu_start, kLogs);
  context.TryCancel();
  grpc::Status status;
  stream->Finish(&status, kStarted);
  while (cq.Next(&tag, &ok) && tag != kStarted) {
  }
  state.SetItemsProcessed(static_cast<int64_t>(kLogs));
  state.SetBytesProcessed(static_cast<int64_t>(kLogs * log.ByteSizeLong()));
}
BENCHMARK(BM_AsyncClientCeiling)->Iterations(1)->UseRealTime();

// Remembers the items/s of every run (not the aggregates) per benchmark, while
// printing as usual.
class RateReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      auto it = run.counters.find("items_per_second");
      if (it != run.counters.end()) rates[run.run_name.function_name].push_back(it->second.value);
      it = run.counters.find("cpu_us_per_log");
      if (it != run.counters.end()) cpu[run.run_name.function_name].push_back(it->second.value);
    }
  }
  std::map<std::string, std::vector<double>> rates;
  std::map<std::string, std::vector<double>> cpu;  // process CPU microseconds per Log
};

struct Summary {
  double median = 0, low = 0, high = 0;
  size_t runs = 0;
};

Summary Summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.runs = v.size();
  s.low = v.front();
  s.high = v.back();
  s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  return s;
}

// Adds the default repetitions and shuffling unless the command line sets them.
std::vector<char*> WithDefaults(int argc, char** argv) {
  static char repetitions[] = "--benchmark_repetitions=5";
  static char interleave[] = "--benchmark_enable_random_interleaving=true";
  std::vector<char*> args(argv, argv + argc);
  bool has_repetitions = false, has_interleave = false;
  for (int i = 1; i < argc; ++i) {
    has_repetitions |= std::strncmp(argv[i], "--benchmark_repetitions", 23) == 0;
    has_interleave |= std::strncmp(argv[i], "--benchmark_enable_random_interleaving", 38) == 0;
  }
  if (!has_repetitions) args.push_back(repetitions);
  if (!has_interleave) args.push_back(interleave);
  args.push_back(nullptr);
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian builds abseil without NDEBUG, so absl::Mutex (which gRPC uses too) runs
  // its deadlock detector on every lock unless told not to; a production binary
  // turns it off the same way.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::vector<char*> args = WithDefaults(argc, argv);
  int args_count = static_cast<int>(args.size()) - 1;
  benchmark::Initialize(&args_count, args.data());
  if (benchmark::ReportUnrecognizedArguments(args_count, args.data())) return 1;
  RateReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  Summary pipelined, lockstep, ceiling;
  for (const auto& [name, rates] : reporter.rates) {
    if (name == "BM_EngineSink_Pipelined") pipelined = Summarize(rates);
    if (name == "BM_Lockstep_SendThenRecv") lockstep = Summarize(rates);
    if (name == "BM_AsyncClientCeiling") ceiling = Summarize(rates);
  }
  std::printf("\n1 KB logs to the fake engine (ack each), Unix socket, %d-core machine; "
              "median of %zu shuffled runs each [lowest, highest]; CPU = the whole "
              "process's (sink, engine, gRPC) per Log\n",
              static_cast<int>(std::thread::hardware_concurrency()), pipelined.runs);
  const auto line = [&](const char* what, const Summary& s, const char* name) {
    const Summary cpu = Summarize(reporter.cpu[name]);
    std::printf("  %-21s: %10.0f logs/s  [%.0f, %.0f]; CPU %.2f us/log [%.2f, %.2f]\n",
                what, s.median, s.low, s.high, cpu.median, cpu.low, cpu.high);
  };
  line("pipelined EngineSink", pipelined, "BM_EngineSink_Pipelined");
  line("lockstep (Go plugin)", lockstep, "BM_Lockstep_SendThenRecv");
  if (lockstep.median > 0 && pipelined.median > 0) {
    std::printf("  ratio                : %10.1fx  (of the medians)\n",
                pipelined.median / lockstep.median);
  }
  if (ceiling.median > 0 && pipelined.median > 0) {
    line("async client ceiling", ceiling, "BM_AsyncClientCeiling");
    std::printf("  EngineSink / ceiling : %10.0f%%  (of the medians)\n",
                100 * pipelined.median / ceiling.median);
  }
  std::printf(
      "  sink memory bound    : window_bytes %zu + window_logs %zu x ~80 B "
      "bookkeeping + max_coalesced_bytes %zu + 4 MiB ack receive window + the "
      "engine's HTTP/2 window\n",
      g_sink_options.window_bytes, g_sink_options.window_logs,
      g_sink_options.max_coalesced_bytes);
  std::printf(
      "  max pending seen     : %zu bytes; peak RSS of the process (sink + "
      "engine + gRPC): %zu MiB\n",
      g_max_pending_bytes, PeakRssBytes() >> 20);
  g_engine.reset();  // stops the engine and removes its directory
  return 0;
}
