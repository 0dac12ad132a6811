#include "azure_auth/secret_source.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace azure_auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "Xq8~SECRET-VALUE-c0ffee.Zz_";

class SecretSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = absl::StrCat(::testing::TempDir(), "/secret-XXXXXX");
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  std::string Write(const std::string& name, const std::string& content, mode_t mode) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }
  std::string dir_;
};

TEST_F(SecretSourceTest, FileSecretTrimsTrailingNewlineAndRereadsOnEachCall) {
  std::string path = Write("s", std::string(kSecret) + "\r\n", 0600);
  std::vector<std::string> notes;
  SecretProvider secret =
      FileSecret(path, [&](absl::string_view n) { notes.emplace_back(n); });
  absl::StatusOr<std::string> first = secret();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, kSecret);
  Write("s", "rotated-value\n", 0600);
  absl::StatusOr<std::string> second = secret();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, "rotated-value");
  EXPECT_TRUE(notes.empty());
}

TEST_F(SecretSourceTest, FileSecretWarnsOnceWhenOthersCanRead) {
  std::string path = Write("s", kSecret, 0644);
  std::vector<std::string> notes;
  SecretProvider secret =
      FileSecret(path, [&](absl::string_view n) { notes.emplace_back(n); });
  ASSERT_TRUE(secret().ok());
  ASSERT_TRUE(secret().ok());
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_THAT(notes[0], HasSubstr(path));
  EXPECT_THAT(notes[0], HasSubstr("readable by other users (mode 0644)"));
  EXPECT_THAT(notes[0], HasSubstr("chmod 600"));
  EXPECT_THAT(notes[0], Not(HasSubstr(kSecret)));
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  ASSERT_TRUE(secret().ok());
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_THAT(notes[1], HasSubstr("readable by its group (mode 0640)"));
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  ASSERT_TRUE(secret().ok());
  EXPECT_EQ(notes.size(), 2u);
  EXPECT_FALSE(SecretFileModeNote(path).has_value());
}

TEST_F(SecretSourceTest, FileErrorsNameTheFileButNotTheContent) {
  absl::StatusOr<std::string> missing = FileSecret(dir_ + "/nope")();
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(dir_ + "/nope"));
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("does not exist"));

  std::string empty = Write("empty", "\n\n", 0600);
  absl::StatusOr<std::string> e = FileSecret(empty)();
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(e.status().message()), HasSubstr("is empty"));

  absl::StatusOr<std::string> dir = FileSecret(dir_)();
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(dir.status().message()), HasSubstr("not a regular file"));

  std::string big = Write("big", std::string(kMaxSecretFileBytes + 1, 'k') + kSecret, 0600);
  absl::StatusOr<std::string> b = FileSecret(big)();
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(b.status().message()), Not(HasSubstr(kSecret)));
  EXPECT_THAT(std::string(b.status().message()), Not(HasSubstr("kkkk")));

  if (::geteuid() != 0) {  // root reads anything
    std::string locked = Write("locked", kSecret, 0000);
    absl::StatusOr<std::string> l = FileSecret(locked)();
    EXPECT_EQ(l.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(std::string(l.status().message()), HasSubstr("cannot be read"));
  }
}

TEST_F(SecretSourceTest, FileOptionsNameTheRole) {
  SecretFileOptions options;
  options.what = "certificate file";
  absl::StatusOr<std::string> missing = ReadSecretFile(dir_ + "/cert.pem", options);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("certificate file " + dir_ + "/cert.pem does not exist"));
}

TEST(EnvSecretTest, ReadsTheVariableOnEachCall) {
  std::map<std::string, std::string> env = {{"AZURE_CLIENT_SECRET", kSecret}};
  EnvLookup lookup = [&](absl::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  SecretProvider secret = EnvSecret("AZURE_CLIENT_SECRET", lookup);
  EXPECT_EQ(*secret(), kSecret);
  env["AZURE_CLIENT_SECRET"] = "";
  absl::StatusOr<std::string> empty = secret();
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(empty.status().message()), HasSubstr("AZURE_CLIENT_SECRET is empty"));
  env.clear();
  absl::StatusOr<std::string> unset = secret();
  EXPECT_EQ(unset.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(unset.status().message()), HasSubstr("AZURE_CLIENT_SECRET is not set"));
}

TEST(EnvSecretTest, ProcessEnvironmentReadsRealVariables) {
  ::setenv("AZURE_AUTH_TEST_VARIABLE", "value-1", 1);
  EXPECT_EQ(ProcessEnvironment()("AZURE_AUTH_TEST_VARIABLE"), "value-1");
  ::unsetenv("AZURE_AUTH_TEST_VARIABLE");
  EXPECT_EQ(ProcessEnvironment()("AZURE_AUTH_TEST_VARIABLE"), std::nullopt);
}

TEST(FixedSecretTest, ReturnsTheValueAndRejectsEmpty) {
  EXPECT_EQ(*FixedSecret("abc")(), "abc");
  EXPECT_EQ(FixedSecret("")().status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace azure_auth
