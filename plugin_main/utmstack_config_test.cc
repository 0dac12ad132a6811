#include "plugin_main/utmstack_config.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plugin_main {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(std::getenv("TEST_TMPDIR")) + "/pipeline-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  std::string dir_;
};

TEST_F(PipelineTest, MergesEveryYamlFile) {
  Write("10-env.yaml", "env:\n  mode: manager\nplugins:\n  com.utmstack:\n    backend: old:443\n");
  Write("20-utm.yaml",
        "plugins:\n  com.utmstack:\n    backend: backend.local:8443\n    internalKey: k3y\n"
        "  com.other:\n    x: 1\n");
  Write("notes.txt", "plugins: [");
  auto settings = ReadPipelineSettings(dir_);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->backend, "backend.local:8443");
  EXPECT_EQ(settings->internal_key, "k3y");
  EXPECT_EQ(settings->mode, "manager");
}

TEST_F(PipelineTest, MissingSectionAndBadYamlAreClear) {
  Write("a.yaml", "plugins:\n  com.other: {}\n");
  auto none = ReadPipelineSettings(dir_);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("com.utmstack"));

  Write("b.yaml", "plugins: [unclosed\n");
  auto bad = ReadPipelineSettings(dir_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("b.yaml"));

  auto missing = ReadPipelineSettings(dir_ + "/nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PipelineTest, KeyMissingIsNamedButNotPrinted) {
  Write("a.yaml", "plugins:\n  com.utmstack:\n    backend: b:1\n");
  auto s = ReadPipelineSettings(dir_);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("internalKey"));
}

TEST(ModuleGroupsTest, CompleteGroupsBecomeWorkspacesIncompleteOnesAreNamed) {
  WorkspaceSettings defaults;
  defaults.queries.push_back({"SigninLogs", "SigninLogs", "", ""});
  defaults.poll_interval = absl::Seconds(300);
  const std::string body = ReadFile("testdata/utmstack/module_details_azure.json");
  ASSERT_FALSE(body.empty());
  auto groups = ParseModuleGroups(body, defaults);
  ASSERT_TRUE(groups.ok()) << groups.status();
  EXPECT_TRUE(groups->module_active);
  ASSERT_EQ(groups->workspaces.size(), 1u);
  const WorkspaceSettings& ws = groups->workspaces[0];
  EXPECT_EQ(ws.proto.name(), "contoso-prod");
  EXPECT_EQ(ws.proto.tenant_id(), "11111111-1111-1111-1111-111111111111");
  EXPECT_EQ(ws.proto.client_id(), "22222222-2222-2222-2222-222222222222");
  EXPECT_EQ(ws.proto.workspace_id(), "33333333-3333-3333-3333-333333333333");
  EXPECT_EQ(ws.inline_secret, "s3cr3t-console-value");
  EXPECT_EQ(ws.poll_interval, absl::Seconds(300));
  ASSERT_EQ(ws.queries.size(), 1u);
  ASSERT_EQ(groups->problems.size(), 1u);
  EXPECT_THAT(groups->problems[0], HasSubstr("contoso-dev"));
  EXPECT_THAT(groups->problems[0], HasSubstr("Client Secret"));
  EXPECT_THAT(groups->problems[0], Not(HasSubstr("s3cr3t")));
}

TEST(ModuleGroupsTest, AGroupNameUsedTwiceIsReadOnceAndReported) {
  const auto group = [](const char* name, const char* workspace) {
    return absl::StrCat(
        R"({"groupName": ")", name, R"(", "moduleGroupConfigurations": [)",
        R"({"confKey": "azure.tenantId", "confValue": "t"},)",
        R"({"confKey": "azure.clientId", "confValue": "c"},)",
        R"({"confKey": "azure.clientSecret", "confValue": "s"},)",
        R"({"confKey": "azure.workspaceId", "confValue": ")", workspace, R"("}]})");
  };
  const std::string body =
      absl::StrCat(R"({"moduleActive": true, "moduleGroups": [)", group("prod", "w1"), ",",
                   group("prod", "w2"), ",", group("dev", "w3"), "]}");
  auto groups = ParseModuleGroups(body, WorkspaceSettings());
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->workspaces.size(), 2u);
  EXPECT_EQ(groups->workspaces[0].proto.workspace_id(), "w1");
  EXPECT_EQ(groups->workspaces[1].proto.name(), "dev");
  ASSERT_EQ(groups->problems.size(), 1u);
  EXPECT_THAT(groups->problems[0], HasSubstr("share the name \"prod\""));
}

TEST(ModuleGroupsTest, MalformedAnswersAreInvalidArgument) {
  for (const char* body : {"", "{", "[]", "{\"moduleGroups\": 3}"}) {
    auto groups = ParseModuleGroups(body, WorkspaceSettings());
    ASSERT_FALSE(groups.ok()) << body;
    EXPECT_EQ(groups.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(ModuleConfigClientTest, UrlAddsSchemeOnlyWhenMissing) {
  EXPECT_EQ(ModuleConfigClient(nullptr, {"backend:8443", "k", ""}).Url(),
            "https://backend:8443/api/utm-modules/module-details-decrypted?nameShort=AZURE&serverId=1");
  EXPECT_EQ(ModuleConfigClient(nullptr, {"http://127.0.0.1:9/", "k", ""}).Url(),
            "http://127.0.0.1:9/api/utm-modules/module-details-decrypted?nameShort=AZURE&serverId=1");
}

}  // namespace
}  // namespace plugin_main
