// Conversion speed and memory on generated answers (signin, diagnostics, union at 1,
// 10 and 100 MB), beside simdjson's own on-demand parse-and-visit of the same bytes.
// BM_Convert is the paginator's path (rows of large answers read in windows);
// BM_ConvertWhole indexes each answer at once, for comparison.
//
//   bazel run -c opt //loganalytics/convert:log_converter_benchmark
//
// Counters: bytes_per_second (MB/s of input), rows (rows/s), peak_mem_x (the process's
// peak resident memory during one conversion, answer included, divided by the answer
// size), extra_mem_x (what the conversion added on top of the answer, same unit).
#include <malloc.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "loganalytics/convert/internal/hash128.h"
#include "loganalytics/convert/log_converter.h"
#include "openssl/evp.h"
#include "proto/plugins.pb.h"
#include "simdjson.h"
#include "testdata/generator/answer_generator.h"

namespace loganalytics {
namespace {

constexpr answer_generator::Shape kShapes[] = {answer_generator::Shape::kSignin,
                                               answer_generator::Shape::kDiagnostics,
                                               answer_generator::Shape::kUnion};

// A generated answer with SIMDJSON_PADDING spare capacity, made once per (shape, MB).
const std::string& Answer(int shape, int megabytes) {
  static auto* answers = new std::map<std::pair<int, int>, std::unique_ptr<std::string>>();
  auto& slot = (*answers)[{shape, megabytes}];
  if (slot == nullptr) {
    slot = std::make_unique<std::string>(answer_generator::GenerateAnswer(
        kShapes[shape], static_cast<size_t>(megabytes) << 20, /*seed=*/1));
    slot->reserve(slot->size() + simdjson::SIMDJSON_PADDING);
  }
  return *slot;
}

// Reads a "VmRSS:"/"VmHWM:" line of /proc/self/status, in bytes.
int64_t ProcStatusBytes(const char* field) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  int64_t kb = -1;
  const size_t n = std::strlen(field);
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::strncmp(line, field, n) == 0) {
      kb = std::strtoll(line + n, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kb < 0 ? -1 : kb * 1024;
}

// Resets the peak resident size (VmHWM) to the current one.
bool ResetPeakMemory() {
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

// Runs `work` once and reports the peak memory it added, relative to `answer_size`.
template <typename Work>
void ReportPeakMemory(benchmark::State& state, size_t answer_size, Work work) {
  if (!ResetPeakMemory()) {
    state.counters["peak_mem_x"] = -1;  // /proc/self/clear_refs unavailable
    return;
  }
  const int64_t before = ProcStatusBytes("VmRSS:");
  work();
  const int64_t peak = ProcStatusBytes("VmHWM:");
  const double extra = static_cast<double>(peak - before);
  state.counters["extra_mem_x"] = extra / static_cast<double>(answer_size);
  state.counters["peak_mem_x"] = (static_cast<double>(answer_size) + extra) /
                                 static_cast<double>(answer_size);
}

ConvertOptions BenchmarkOptions() {
  ConvertOptions options;
  options.workspace_id = "b3a1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
  options.data_source = "benchmark";
  return options;
}

// The emitter a sink would be: it looks at each Log and lets it go.
absl::Status Consume(plugins::Log&& log, const RowMeta& meta) {
  benchmark::DoNotOptimize(log.raw().data());
  benchmark::DoNotOptimize(meta.item_id.data());
  return absl::OkStatus();
}

void SetLabel(benchmark::State& state, size_t size) {
  state.SetLabel(absl::StrCat(answer_generator::ShapeName(kShapes[state.range(0)]), "/",
                              state.range(1), "MB (", size, " bytes)"));
}

// The paginator's path: one LogConverter reused for every page, body read in place
// (ConvertInPlace); with `whole`, the answer is indexed at once instead of in windows.
void RunConvertInPlace(benchmark::State& state, bool whole) {
  std::string body = Answer(state.range(0), state.range(1));
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  const auto make_converter = [&] {
    auto converter = std::make_unique<LogConverter>(BenchmarkOptions());
    if (whole) converter->SetWindowBytesForTesting(body.size());
    return converter;
  };
  ReportPeakMemory(state, body.size(), [&] {
    benchmark::DoNotOptimize(make_converter()->ConvertInPlace(&body, Consume));
  });
  std::unique_ptr<LogConverter> converter = make_converter();
  size_t rows = 0;
  for (auto _ : state) {
    absl::StatusOr<ConvertSummary> summary = converter->ConvertInPlace(&body, Consume);
    if (!summary.ok()) {
      state.SkipWithError(std::string(summary.status().message()).c_str());
      return;
    }
    rows += summary->rows;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.counters["rows"] = benchmark::Counter(static_cast<double>(rows),
                                              benchmark::Counter::kIsRate);
  SetLabel(state, body.size());
}

void BM_Convert(benchmark::State& state) { RunConvertInPlace(state, /*whole=*/false); }
void BM_ConvertWhole(benchmark::State& state) { RunConvertInPlace(state, /*whole=*/true); }

// Convert(string_view): copies the body into the converter's padded buffer first.
void BM_ConvertCopying(benchmark::State& state) {
  const std::string& body = Answer(state.range(0), state.range(1));
  ReportPeakMemory(state, body.size(), [&] {
    LogConverter fresh(BenchmarkOptions());
    benchmark::DoNotOptimize(fresh.Convert(body, Consume));
  });
  LogConverter converter(BenchmarkOptions());
  size_t rows = 0;
  for (auto _ : state) {
    absl::StatusOr<ConvertSummary> summary = converter.Convert(body, Consume);
    if (!summary.ok()) {
      state.SkipWithError(std::string(summary.status().message()).c_str());
      return;
    }
    rows += summary->rows;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.counters["rows"] = benchmark::Counter(static_cast<double>(rows),
                                              benchmark::Counter::kIsRate);
  SetLabel(state, body.size());
}

// ConvertAnswer(): a fresh converter (parser allocation, copy) per answer.
void BM_ConvertAnswerFresh(benchmark::State& state) {
  const std::string& body = Answer(state.range(0), state.range(1));
  const ConvertOptions options = BenchmarkOptions();
  size_t rows = 0;
  for (auto _ : state) {
    absl::StatusOr<ConvertSummary> summary = ConvertAnswer(body, options, Consume);
    if (!summary.ok()) {
      state.SkipWithError(std::string(summary.status().message()).c_str());
      return;
    }
    rows += summary->rows;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.counters["rows"] = benchmark::Counter(static_cast<double>(rows),
                                              benchmark::Counter::kIsRate);
  SetLabel(state, body.size());
}

// Baseline: simdjson's on-demand parse of the same answer, visiting every value
// (each scalar's raw token, each key) without converting anything.
simdjson::error_code Visit(simdjson::ondemand::value value, size_t& sum) {
  simdjson::ondemand::json_type type;
  SIMDJSON_TRY(value.type().get(type));
  switch (type) {
    case simdjson::ondemand::json_type::array: {
      simdjson::ondemand::array array;
      SIMDJSON_TRY(value.get_array().get(array));
      for (auto element : array) {
        simdjson::ondemand::value child;
        SIMDJSON_TRY(element.get(child));
        SIMDJSON_TRY(Visit(child, sum));
      }
      return simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object object;
      SIMDJSON_TRY(value.get_object().get(object));
      for (auto field : object) {
        simdjson::ondemand::raw_json_string key;
        SIMDJSON_TRY(field.key().get(key));
        sum += reinterpret_cast<uintptr_t>(key.raw()) & 1;
        SIMDJSON_TRY(Visit(field.value(), sum));
      }
      return simdjson::SUCCESS;
    }
    default:
      sum += value.raw_json_token().size();
      return simdjson::SUCCESS;
  }
}

simdjson::error_code VisitAnswer(simdjson::ondemand::parser& parser,
                                 simdjson::padded_string_view body, size_t& sum) {
  simdjson::ondemand::document doc;
  SIMDJSON_TRY(parser.iterate(body).get(doc));
  simdjson::ondemand::object top;
  SIMDJSON_TRY(doc.get_object().get(top));
  for (auto field : top) {
    simdjson::ondemand::raw_json_string key;
    SIMDJSON_TRY(field.key().get(key));
    SIMDJSON_TRY(Visit(field.value(), sum));
  }
  return simdjson::SUCCESS;
}

void BM_SimdjsonVisit(benchmark::State& state) {
  const std::string& body = Answer(state.range(0), state.range(1));
  const simdjson::padded_string_view view(body);
  ReportPeakMemory(state, body.size(), [&] {
    simdjson::ondemand::parser fresh;
    size_t sum = 0;
    benchmark::DoNotOptimize(VisitAnswer(fresh, view, sum));
  });
  simdjson::ondemand::parser parser;
  for (auto _ : state) {
    size_t sum = 0;
    const simdjson::error_code error = VisitAnswer(parser, view, sum);
    if (error) {
      state.SkipWithError(simdjson::error_message(error));
      return;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  SetLabel(state, body.size());
}

void AllAnswers(benchmark::internal::Benchmark* b) {
  for (int shape = 0; shape < 3; ++shape) {
    for (int megabytes : {1, 10, 100}) b->Args({shape, megabytes});
  }
  b->Unit(benchmark::kMillisecond);
}

void TenAndHundredMegabytes(benchmark::internal::Benchmark* b) {
  for (int shape = 0; shape < 3; ++shape) {
    b->Args({shape, 10});
    b->Args({shape, 100});
  }
  b->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_SimdjsonVisit)->Apply(AllAnswers);
BENCHMARK(BM_Convert)->Apply(AllAnswers);
BENCHMARK(BM_ConvertWhole)->Apply(TenAndHundredMegabytes);
BENCHMARK(BM_ConvertCopying)->Apply(TenAndHundredMegabytes);
BENCHMARK(BM_ConvertAnswerFresh)->Apply(TenAndHundredMegabytes);

// The cost of the Log id: the stable 128-bit hash used, against SHA-256 (libcrypto) of
// the same bytes. range(0) = bytes hashed: ~100 for (workspace, table, _ItemId), ~2000
// for a row without _ItemId.
void BM_RowId_Murmur3(benchmark::State& state) {
  const std::string input(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    internal_convert::Murmur3Hasher hasher;
    hasher.UpdateField(input);
    char id[36];
    internal_convert::FormatUuid(hasher.Finish(), id);
    benchmark::DoNotOptimize(id);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
}
BENCHMARK(BM_RowId_Murmur3)->Arg(100)->Arg(2000);

void BM_RowId_Sha256(benchmark::State& state) {
  const std::string input(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    EVP_Digest(input.data(), input.size(), digest, nullptr, EVP_sha256(), nullptr);
    internal_convert::Hash128 hash;
    std::memcpy(&hash.h1, digest, 8);
    std::memcpy(&hash.h2, digest + 8, 8);
    char id[36];
    internal_convert::FormatUuid(hash, id);
    benchmark::DoNotOptimize(id);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
}
BENCHMARK(BM_RowId_Sha256)->Arg(100)->Arg(2000);

}  // namespace
}  // namespace loganalytics

// Large blocks always come from mmap and go back to the system when freed, so that
// the peak-memory counters see every buffer a conversion allocates (glibc would
// otherwise serve blocks below its dynamic 32 MiB threshold from memory it keeps).
int main(int argc, char** argv) {
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
  mallopt(M_TRIM_THRESHOLD, 256 << 10);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
