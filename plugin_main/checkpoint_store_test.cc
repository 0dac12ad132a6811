#include "plugin_main/checkpoint_store.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plugin_main {
namespace {

using ::testing::HasSubstr;

class CheckpointStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(std::getenv("TEST_TMPDIR")) + "/state-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

Checkpoint Sample() {
  Checkpoint cp;
  cp.ingestion_time = absl::FromUnixNanos(1700000000123456789);
  cp.item_id = "it\"em\\1\n";
  cp.rows_delivered = 12345678901234ull;
  cp.updated_at = absl::FromUnixSeconds(1700000100);
  cp.last_error = "HTTP 429";
  return cp;
}

TEST_F(CheckpointStoreTest, RoundTripsThroughAReadableFile) {
  FileCheckpointStore store(dir_);
  ASSERT_TRUE(store.EnsureDirectory().ok());
  auto none = store.Load("prod", "SigninLogs");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  ASSERT_TRUE(store.Save("prod", "SigninLogs", Sample()).ok());
  auto loaded = store.Load("prod", "SigninLogs");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  const Checkpoint& cp = **loaded;
  EXPECT_EQ(cp.ingestion_time, Sample().ingestion_time);
  EXPECT_EQ(cp.item_id, Sample().item_id);
  EXPECT_EQ(cp.rows_delivered, Sample().rows_delivered);
  EXPECT_EQ(cp.updated_at, Sample().updated_at);
  EXPECT_EQ(cp.last_error, "HTTP 429");

  std::ifstream in(store.PathFor("prod", "SigninLogs"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("\"ingestion_time\": \"2023-11-14T22:13:20.123456789Z\""));
  EXPECT_THAT(text, HasSubstr("\"query\": \"SigninLogs\""));

  struct stat st;
  ASSERT_EQ(::stat(store.PathFor("prod", "SigninLogs").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
}

TEST_F(CheckpointStoreTest, ConsoleGroupNamesWithSlashesStayInsideTheStateDirectory) {
  FileCheckpointStore store(dir_);
  ASSERT_TRUE(store.EnsureDirectory().ok());
  // Names from UTMStack's console are free text; each stays one file of its own.
  const std::string names[] = {"Prod/EU", "../escape", "Prod%2FEU", "tab\there", "Prod EU"};
  for (const std::string& name : names) {
    Checkpoint cp = Sample();
    cp.item_id = name;
    ASSERT_TRUE(store.Save(name, "SigninLogs", cp).ok()) << name;
  }
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    files.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(files.size(), std::size(names));
  for (const std::string& name : names) {
    auto loaded = store.Load(name, "SigninLogs");
    ASSERT_TRUE(loaded.ok() && loaded->has_value()) << name;
    EXPECT_EQ((*loaded)->item_id, name);
    EXPECT_EQ(std::filesystem::path(store.PathFor(name, "SigninLogs")).parent_path(),
              std::filesystem::path(dir_));
  }
  // Names the config file allows keep the file names they always had.
  EXPECT_EQ(store.PathFor("corp.prod-1_a", "SigninLogs"),
            dir_ + "/corp.prod-1_a.SigninLogs.json");
}

TEST_F(CheckpointStoreTest, ACheckpointWrittenBeforeNamesWereEscapedIsReadAndMoved) {
  FileCheckpointStore store(dir_ + "/");  // a trailing slash names the same directory
  ASSERT_TRUE(store.EnsureDirectory().ok());
  ASSERT_TRUE(store.Save("50% EU", "SigninLogs", Sample()).ok());
  const std::string escaped = store.PathFor("50% EU", "SigninLogs");
  EXPECT_EQ(escaped, dir_ + "/50%25 EU.SigninLogs.json");
  const std::string legacy = dir_ + "/50% EU.SigninLogs.json";
  ASSERT_EQ(::rename(escaped.c_str(), legacy.c_str()), 0);  // as an older version left it

  auto loaded = store.Load("50% EU", "SigninLogs");
  ASSERT_TRUE(loaded.ok() && loaded->has_value()) << "the old file must be found";
  EXPECT_EQ((*loaded)->ingestion_time, Sample().ingestion_time);
  ASSERT_TRUE(store.Save("50% EU", "SigninLogs", **loaded).ok());
  EXPECT_TRUE(std::filesystem::exists(escaped));
  EXPECT_FALSE(std::filesystem::exists(legacy)) << "moved to the escaped name";
}

TEST_F(CheckpointStoreTest, AnExistingOpenStateDirectoryIsNarrowedTo0700) {
  ASSERT_EQ(::mkdir(dir_.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);  // whatever the umask
  FileCheckpointStore store(dir_);
  ASSERT_TRUE(store.EnsureDirectory().ok());
  struct stat st;
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
}

TEST_F(CheckpointStoreTest, CorruptFileIsDataLossNamingTheFileAndIsKept) {
  FileCheckpointStore store(dir_);
  ASSERT_TRUE(store.EnsureDirectory().ok());
  const std::string path = store.PathFor("prod", "AuditLogs");
  for (const char* garbage : {"{\"ingestion_time\": 5", "[]", "", "{\"ingestion_time\":\"x\"}",
                              "{\"ingestion_time\":\"\",\"updated_at\":\"\",\"item_id\":\"\"}"}) {
    std::ofstream(path) << garbage;
    auto loaded = store.Load("prod", "AuditLogs");
    ASSERT_FALSE(loaded.ok()) << garbage;
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(loaded.status().message(), HasSubstr(path));
    EXPECT_THAT(loaded.status().message(), HasSubstr("not overwritten"));
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, garbage);
  }
}

TEST_F(CheckpointStoreTest, UnwritableDirectoryIsAClearError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  FileCheckpointStore store(dir_);
  ASSERT_TRUE(store.EnsureDirectory().ok());
  ::chmod(dir_.c_str(), 0500);
  absl::Status s = store.Save("prod", "x", Sample());
  ::chmod(dir_.c_str(), 0700);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
}

// A child process saves checkpoints in a loop and is killed at random moments; every
// time, the file left behind is one of the complete versions.
TEST_F(CheckpointStoreTest, KillDuringWritesLeavesOldOrNewNeverTorn) {
  FileCheckpointStore store(dir_);
  ASSERT_TRUE(store.EnsureDirectory().ok());
  Checkpoint base = Sample();
  base.last_error.assign(90000, 'x');  // ~90 KB: writes take a while
  ASSERT_TRUE(store.Save("prod", "q", base).ok());
  for (int round = 0; round < 20; ++round) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      Checkpoint cp = base;
      for (uint64_t i = 0;; ++i) {
        cp.rows_delivered = i;
        (void)store.Save("prod", "q", cp);
      }
    }
    ::usleep(1000 + (round * 7919) % 20000);
    ::kill(child, SIGKILL);
    int wstatus = 0;
    ::waitpid(child, &wstatus, 0);
    auto loaded = store.Load("prod", "q");
    ASSERT_TRUE(loaded.ok()) << "round " << round << ": " << loaded.status();
    ASSERT_TRUE(loaded->has_value());
    EXPECT_EQ((*loaded)->last_error.size(), 90000u);
  }
}

}  // namespace
}  // namespace plugin_main
