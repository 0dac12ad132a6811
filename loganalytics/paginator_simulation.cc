// Runs the incremental-reading simulation (loganalytics/internal/simulation.h) at any
// size and prints its counts; exits 1 when a record was lost or kept twice.
//
//   bazel run -c opt //loganalytics:paginator_simulation -- --records=1000000
#include <cstdint>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/time.h"
#include "loganalytics/internal/simulation.h"

ABSL_FLAG(int64_t, records, 1000000, "records in all workspaces");
ABSL_FLAG(int, workspaces, 3, "workspaces");
ABSL_FLAG(int64_t, hours, 24, "hours of ingestion the records are spread over");
ABSL_FLAG(uint64_t, seed, 7, "random seed");
constexpr int64_t kDefaultRowCap = 15000;

ABSL_FLAG(int64_t, row_cap, kDefaultRowCap,
          "rows per answer before a PartialError; the default is below the largest pages, "
          "so the catch-up hits it; a cap below the rows of one overlap (e.g. 200) makes "
          "the paginators re-read the overlap in parts");
ABSL_FLAG(int64_t, overlap_every_seconds, 0,
          "re-read the overlap only this often (0: every page); see PaginatorOptions");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  loganalytics_internal::SimulationOptions options;
  options.records = absl::GetFlag(FLAGS_records);
  options.workspaces = absl::GetFlag(FLAGS_workspaces);
  options.span = absl::Hours(absl::GetFlag(FLAGS_hours));
  options.seed = absl::GetFlag(FLAGS_seed);
  options.row_cap = absl::GetFlag(FLAGS_row_cap);
  options.paginator.initial_page_rows = 5000;
  options.paginator.max_page_rows = 40000;
  options.paginator.overlap_every = absl::Seconds(absl::GetFlag(FLAGS_overlap_every_seconds));
  if (options.row_cap < kDefaultRowCap) {
    // Re-read in parts, a round of pages that a retryable error interrupts resumes at
    // the next tick: the net narrows by up to one tick. Keep the slow records within it.
    options.slow_extra = options.paginator.overlap - options.tick - absl::Seconds(10);
  }
  if (options.paginator.overlap_every > absl::ZeroDuration()) {
    // Keep the slow records within what the narrower net catches.
    options.slow_extra = options.paginator.overlap - options.paginator.overlap_every -
                         options.tick - absl::Seconds(10);
  }
  loganalytics_internal::SimulationResult result = loganalytics_internal::RunSimulation(options);
  std::cout << result.Describe();
  std::cout << (result.ok() ? "OK: every record delivered, none twice after Log.id dedup\n"
                            : "FAILED\n");
  return result.ok() ? 0 : 1;
}
