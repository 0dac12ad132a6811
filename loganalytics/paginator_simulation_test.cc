// Reads 3 simulated workspaces end to end (see loganalytics/internal/simulation.h) and
// checks that every record arrives, and none twice once repeated Log.ids are dropped.
// SIMULATION_RECORDS overrides the record count (default 20,000); the 1,000,000-record
// run is `bazel run -c opt //loganalytics:paginator_simulation -- --records=1000000`.
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "gtest/gtest.h"
#include "loganalytics/internal/simulation.h"

namespace loganalytics_internal {
namespace {

TEST(PaginatorSimulationTest, EveryRecordOnceAcrossThreeWorkspaces) {
  SimulationOptions options;
  options.workspaces = 3;
  options.records = 20000;
  options.row_cap = 600;  // below the larger pages of the 2-hour backlog
  if (const char* env = std::getenv("SIMULATION_RECORDS")) {
    ASSERT_TRUE(absl::SimpleAtoi(env, &options.records)) << env;
  }
  SimulationResult result = RunSimulation(options);
  std::cout << result.Describe();
  ASSERT_TRUE(result.failure.ok()) << result.failure;
  EXPECT_EQ(result.missing, 0);
  EXPECT_EQ(result.distinct, options.records);
  EXPECT_EQ(result.after_dedup, options.records);
  EXPECT_EQ(result.id_mismatches, 0);
  EXPECT_LE(result.repeated, result.repeat_budget);
  // The run went through what it is meant to exercise.
  EXPECT_GT(result.late_records, 0);
  EXPECT_GT(result.slow_records, 0);
  EXPECT_GT(result.model.throttled, 0);
  EXPECT_GT(result.model.server_errors + result.model.gateway_timeouts, 0);
  EXPECT_GT(result.model.truncated, 0);
  EXPECT_GT(result.model.row_cap_hits, 0);
  EXPECT_GT(result.incomplete_pages, 0);
  EXPECT_GT(result.uncommitted_pages, 0);
  EXPECT_GT(result.duplicates_dropped, 0);
  EXPECT_TRUE(result.ok());
}

TEST(PaginatorSimulationTest, WithoutOverlapSlowRecordsAreLost) {
  // The same run with no overlap shows what the overlap is for.
  SimulationOptions options;
  options.records = 3000;
  options.paginator.overlap = absl::ZeroDuration();
  options.faults = workspace_model::RandomFaults();
  SimulationResult result = RunSimulation(options);
  std::cout << result.Describe();
  ASSERT_TRUE(result.failure.ok()) << result.failure;
  EXPECT_GT(result.missing, 0);
  EXPECT_LE(result.missing, result.slow_records);
}

}  // namespace
}  // namespace loganalytics_internal
