// Round trips of CurlTransport against the fake Azure over loopback HTTPS: one query
// (the recorded ~2 KB answer) per iteration, with the connection kept and reused, and
// with a new transport (so a new TCP connection and full TLS handshake) every time.
// Prints requests/s for each and the speed-up that connection reuse buys.
//
//   bazel run -c opt //http:curl_transport_benchmark
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "absl/status/statusor.h"
#include "http/curl_transport.h"
#include "http/http_transport.h"
#include "testdata/fake_azure/fake_azure_server.h"

namespace {

fake_azure::FakeAzureServer* azure = nullptr;

http::HttpRequest QueryRequest(const std::string& token) {
  http::HttpRequest request;
  request.method = "POST";
  request.url = azure->query_url();
  request.headers = {{"Authorization", "Bearer " + token},
                     {"Content-Type", "application/json"}};
  request.body = R"({"query":"SigninLogs | take 6","timespan":"PT1H"})";
  return request;
}

http::CurlTransport::Options TrustFake() {
  http::CurlTransport::Options options;
  options.ca_file = azure->ca_file();
  return options;
}

bool RoundTrip(http::CurlTransport& transport, const http::HttpRequest& request) {
  absl::StatusOr<http::HttpResponse> response = transport.Send(request);
  benchmark::DoNotOptimize(response);
  return response.ok() && response->status == 200;
}

void BM_CurlTransport_ReusedConnection(benchmark::State& state) {
  static http::CurlTransport* shared = new http::CurlTransport(TrustFake());
  const http::HttpRequest request =
      QueryRequest(azure->IssueToken("https://api.loganalytics.io/.default"));
  for (auto _ : state) {
    if (!RoundTrip(*shared, request)) state.SkipWithError("request failed");
  }
  state.counters["requests/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  if (state.thread_index() == 0) azure->ClearRequests();
}
BENCHMARK(BM_CurlTransport_ReusedConnection)->UseRealTime();
BENCHMARK(BM_CurlTransport_ReusedConnection)->Threads(4)->UseRealTime();

void BM_CurlTransport_NewConnection(benchmark::State& state) {
  const http::HttpRequest request =
      QueryRequest(azure->IssueToken("https://api.loganalytics.io/.default"));
  for (auto _ : state) {
    http::CurlTransport fresh(TrustFake());
    if (!RoundTrip(fresh, request)) state.SkipWithError("request failed");
  }
  state.counters["requests/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  azure->ClearRequests();
}
BENCHMARK(BM_CurlTransport_NewConnection)->UseRealTime();

// Console output plus requests/s per benchmark, for the ratio at the end.
class RateReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type == Run::RT_Iteration && run.real_accumulated_time > 0) {
        rates_[run.benchmark_name()] =
            static_cast<double>(run.iterations) / run.real_accumulated_time;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  const std::map<std::string, double>& rates() const { return rates_; }

 private:
  std::map<std::string, double> rates_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  fake_azure::FakeAzureServer server;
  if (absl::Status started = server.Start(); !started.ok()) {
    std::fprintf(stderr, "cannot start the fake Azure: %s\n",
                 std::string(started.message()).c_str());
    return 1;
  }
  azure = &server;
  RateReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  double reused = 0, fresh = 0;
  for (const auto& [name, rate] : reporter.rates()) {
    if (name.rfind("BM_CurlTransport_ReusedConnection/real_time", 0) == 0 &&
        name.find("threads") == std::string::npos) {
      reused = rate;
    }
    if (name.rfind("BM_CurlTransport_NewConnection", 0) == 0) fresh = rate;
  }
  if (reused > 0 && fresh > 0) {
    std::printf("connection reuse: %.0f requests/s vs %.0f with a new connection each: "
                "%.1fx\n", reused, fresh, reused / fresh);
  }
  azure = nullptr;
  return 0;
}
