// Pages/s and rows/s of the paginator reading a whole workspace, in process (the
// WorkspaceModel behind an in-memory transport) and over HTTPS (FakeAzureServer, curl),
// plus the cost of one query round trip and of mapping an error answer.
//
//   bazel run -c opt //loganalytics:paginator_benchmark
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "common/clock.h"
#include "http/curl_transport.h"
#include "loganalytics/internal/static_credential.h"
#include "loganalytics/paginator.h"
#include "loganalytics/query_client.h"
#include "loganalytics/query_error.h"
#include "testdata/azure/recorded_bodies.h"
#include "testdata/fake_azure/fake_azure_server.h"
#include "testdata/workspace_model/fake_azure_handler.h"
#include "testdata/workspace_model/model_transport.h"
#include "testdata/workspace_model/workspace_model.h"

namespace loganalytics {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1704067200);

// `records` SigninLogs-like records, one per 100 ms of ingestion, three per timestamp
// sharing it (30 per second), with a handful of typical columns.
void Fill(workspace_model::WorkspaceModel* model, const std::string& workspace, int records) {
  using workspace_model::Column;
  for (int i = 0; i < records; ++i) {
    const absl::Time ingested = kT0 + absl::Milliseconds(100) * (i / 3);
    model->AddRecord(
        workspace,
        workspace_model::Record{
            "SigninLogs", absl::StrFormat("%08x-4a1b-4c2d-8e3f-%012d", i * 2654435761u, i),
            ingested - absl::Seconds(40), ingested, ingested,
            {Column::String("UserPrincipalName", absl::StrFormat("user%d@contoso.com", i % 500)),
             Column::String("AppDisplayName", "Azure Portal"),
             Column::String("IPAddress", absl::StrFormat("203.0.113.%d", i % 250)),
             Column::Long("ResultType", i % 11 == 0 ? 50126 : 0),
             Column::Dynamic("LocationDetails",
                             "{\"city\":\"Amsterdam\",\"countryOrRegion\":\"NL\"}")}});
  }
}

// state.range(0): page rows; state.range(1): overlap seconds (re-read on every page).
PaginatorOptions BenchOptions(const std::string& workspace, const benchmark::State& state,
                              const common::FakeClock& clock) {
  const int64_t page_rows = state.range(0);
  PaginatorOptions options;
  options.overlap = absl::Seconds(state.range(1));
  options.workspace_id = workspace;
  options.name = "SigninLogs";
  options.base_query = "SigninLogs";
  options.initial_page_rows = page_rows;
  options.max_page_rows = page_rows;
  options.convert.clock = clock.AsClock();
  return options;
}

// Reads every record once; returns pages and rows.
std::pair<int64_t, int64_t> ReadAll(std::shared_ptr<const QueryClient> client,
                                    const PaginatorOptions& options,
                                    const common::FakeClock& clock, benchmark::State& state) {
  Paginator paginator(client, options, Cursor::StartAt(kT0 - absl::Minutes(5)),
                      clock.AsClock(), [](absl::Duration) {});
  int64_t pages = 0, rows = 0;
  while (true) {
    absl::StatusOr<Page> page = paginator.NextPage();
    if (!page.ok()) {
      state.SkipWithError(std::string(page.status().message()).c_str());
      break;
    }
    ++pages;
    rows += page->logs.size();
    benchmark::DoNotOptimize(page->logs.data());
    if (!paginator.Commit(*page).ok()) break;
    if (page->complete && !page->more_available) break;
  }
  return {pages, rows};
}

void BM_Paginator_InProcess(benchmark::State& state) {
  const int records = 60000;
  common::FakeClock clock(kT0 + absl::Hours(3));
  workspace_model::WorkspaceModel model(clock.AsClock());
  const std::string workspace = "b4c4d9a5-7e2f-4c1d-9a3b-5e6f7a8b9c0d";
  Fill(&model, workspace, records);
  auto client = std::make_shared<QueryClient>(
      std::make_shared<workspace_model::ModelTransport>(&model),
      std::make_shared<loganalytics_internal::StaticCredential>(
          std::vector<std::string>{"bench-token"}),
      QueryClientOptions());
  const PaginatorOptions options = BenchOptions(workspace, state, clock);
  int64_t pages = 0, rows = 0;
  for (auto _ : state) {
    auto [p, r] = ReadAll(client, options, clock, state);
    pages += p;
    rows += r;
  }
  state.counters["pages/s"] = benchmark::Counter(pages, benchmark::Counter::kIsRate);
  state.counters["rows/s"] = benchmark::Counter(rows, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Paginator_InProcess)
    ->Args({1000, 0})
    ->Args({10000, 0})
    ->Args({1000, 120})
    ->Args({10000, 120})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_Paginator_Https(benchmark::State& state) {
  const int records = 20000;
  common::FakeClock clock(kT0 + absl::Hours(3));
  workspace_model::WorkspaceModel model(clock.AsClock());
  fake_azure::FakeAzureServer azure;
  azure.SetQueryHandler(workspace_model::MakeQueryHandler(&model));
  if (!azure.Start().ok()) {
    state.SkipWithError("FakeAzureServer did not start");
    return;
  }
  Fill(&model, azure.options().workspace_id, records);
  http::CurlTransport::Options curl;
  curl.ca_file = azure.ca_file();
  QueryClientOptions client_options;
  client_options.query_host = azure.base_url();
  auto client = std::make_shared<QueryClient>(
      std::make_shared<http::CurlTransport>(curl),
      std::make_shared<loganalytics_internal::StaticCredential>(std::vector<std::string>{
          azure.IssueToken("https://api.loganalytics.io/.default", absl::Hours(10))}),
      client_options);
  const PaginatorOptions options = BenchOptions(azure.options().workspace_id, state, clock);
  int64_t pages = 0, rows = 0;
  for (auto _ : state) {
    auto [p, r] = ReadAll(client, options, clock, state);
    pages += p;
    rows += r;
  }
  state.counters["pages/s"] = benchmark::Counter(pages, benchmark::Counter::kIsRate);
  state.counters["rows/s"] = benchmark::Counter(rows, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Paginator_Https)
    ->Args({1000, 0})
    ->Args({5000, 0})
    ->Args({5000, 120})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_QueryClient_InProcessRoundTrip(benchmark::State& state) {
  common::FakeClock clock(kT0 + absl::Hours(3));
  workspace_model::WorkspaceModel model(clock.AsClock());
  const std::string workspace = "b4c4d9a5-7e2f-4c1d-9a3b-5e6f7a8b9c0d";
  Fill(&model, workspace, 10);
  QueryClient client(std::make_shared<workspace_model::ModelTransport>(&model),
                     std::make_shared<loganalytics_internal::StaticCredential>(
                         std::vector<std::string>{"bench-token"}));
  for (auto _ : state) {
    absl::StatusOr<QueryResponse> r = client.Query(workspace, "SigninLogs | take 1", "P1D");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_QueryClient_InProcessRoundTrip);

void BM_ParseQueryError_Syntax(benchmark::State& state) {
  const std::string_view body = azure_testdata::kQueryError400Syntax;
  for (auto _ : state) {
    absl::Status s = ParseQueryError(400, absl::string_view(body.data(), body.size()), {});
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_ParseQueryError_Syntax);

}  // namespace
}  // namespace loganalytics
