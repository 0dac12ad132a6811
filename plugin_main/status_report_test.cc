#include "plugin_main/status_report.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plugin_main {
namespace {

using ::testing::HasSubstr;

TEST(StatusReportTest, ListsEveryCheckpointWithLagAndErrors) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/status";
  std::filesystem::remove_all(dir);
  FileCheckpointStore store(dir);
  ASSERT_TRUE(store.EnsureDirectory().ok());
  Checkpoint a;
  a.ingestion_time = absl::FromUnixSeconds(1700000000);
  a.rows_delivered = 42;
  ASSERT_TRUE(store.Save("prod", "SigninLogs", a).ok());
  Checkpoint b;
  b.last_error = "HTTP 403: grant Log Analytics Reader";
  ASSERT_TRUE(store.Save("prod", "AuditLogs", b).ok());
  std::ofstream(dir + "/prod.Broken.json") << "{";

  auto rows = ReadStatus(dir, absl::FromUnixSeconds(1700000090));
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].query, "AuditLogs");
  EXPECT_EQ((*rows)[0].last_error, "HTTP 403: grant Log Analytics Reader");
  EXPECT_EQ((*rows)[1].query, "Broken");
  EXPECT_THAT((*rows)[1].last_error, HasSubstr("corrupt"));
  EXPECT_EQ((*rows)[2].query, "SigninLogs");
  EXPECT_EQ((*rows)[2].lag, absl::Seconds(90));
  EXPECT_EQ((*rows)[2].rows_delivered, 42u);

  std::string table = FormatStatusTable(*rows);
  EXPECT_THAT(table, HasSubstr("2023-11-14T22:13:20.000Z"));
  EXPECT_THAT(table, HasSubstr("1m30s"));
  EXPECT_THAT(table, HasSubstr("Log Analytics Reader"));
}

TEST(StatusReportTest, MissingStateDirectoryIsNotFound) {
  auto rows = ReadStatus("/nonexistent/state", absl::Now());
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(rows.status().message(), HasSubstr("/nonexistent/state"));
}

}  // namespace
}  // namespace plugin_main
