#include "plugin_main/config.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plugin_main {
namespace {

using ::testing::HasSubstr;

Env FakeEnv(std::map<std::string, std::string> values) {
  return [values](absl::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

constexpr absl::string_view kGood = R"({
  "workspaces": [{
    "name": "prod",
    "tenant_id": "11111111-1111-1111-1111-111111111111",
    "client_id": "22222222-2222-2222-2222-222222222222",
    "client_secret_file": "/run/secrets/azure",
    "workspace_id": "33333333-3333-3333-3333-333333333333",
    "queries": [{"preset": "SigninLogs"},
                {"custom": {"name": "heartbeat", "kql": "Heartbeat", "data_type": "azure-hb"}}],
    "poll_interval": "30s",
    "lookback": "72h"
  }],
  "engine": {"socket": "/tmp/engine.sock"},
  "state_dir": "/var/lib/azure-la"
})";

absl::StatusOr<Settings> Resolve(absl::string_view json, Env env = FakeEnv({}),
                                 Overrides overrides = {}) {
  auto config = ParseConfigJson(json, "test.json");
  if (!config.ok()) return config.status();
  return ResolveSettings(*config, env, overrides);
}

TEST(ConfigTest, GoodConfigResolvesWithDefaults) {
  auto settings = Resolve(kGood);
  ASSERT_TRUE(settings.ok()) << settings.status();
  ASSERT_EQ(settings->workspaces.size(), 1u);
  const WorkspaceSettings& ws = settings->workspaces[0];
  EXPECT_EQ(ws.proto.cloud(), "AzurePublic");
  EXPECT_EQ(ws.poll_interval, absl::Seconds(30));
  EXPECT_EQ(ws.settle_delay, absl::Minutes(2));
  EXPECT_EQ(ws.lookback, absl::Hours(72));
  EXPECT_EQ(ws.start_at, absl::InfinitePast());
  ASSERT_EQ(ws.queries.size(), 2u);
  EXPECT_EQ(ws.queries[0].name, "SigninLogs");
  EXPECT_EQ(ws.queries[0].preset, "SigninLogs");
  EXPECT_EQ(ws.queries[1].name, "heartbeat");
  EXPECT_EQ(ws.queries[1].kql, "Heartbeat");
  EXPECT_EQ(ws.queries[1].data_type, "azure-hb");
  EXPECT_EQ(settings->engine_socket, "/tmp/engine.sock");
  EXPECT_EQ(settings->state_dir, "/var/lib/azure-la");
  EXPECT_EQ(settings->tenant_id, kDefaultTenantId);
  EXPECT_EQ(settings->log_level, "info");
}

TEST(ConfigTest, UnknownKeyIsNamed) {
  auto settings = Resolve(R"({"workspaces": [], "enigne": {}})");
  ASSERT_FALSE(settings.ok());
  EXPECT_EQ(settings.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(settings.status().message(), HasSubstr("enigne"));
  EXPECT_THAT(settings.status().message(), HasSubstr("test.json"));
}

TEST(ConfigTest, MissingFieldsAreNamed) {
  struct Case {
    std::string from;
    std::string to;
    std::string field;
  };
  const Case cases[] = {
      {R"("name": "prod",)", "", "workspaces[0].name"},
      {R"("workspace_id": "33333333-3333-3333-3333-333333333333",)", "",
       "workspaces[0].workspace_id"},
      {R"("tenant_id": "11111111-1111-1111-1111-111111111111",)", "", "workspaces[0].tenant_id"},
      {R"("client_id": "22222222-2222-2222-2222-222222222222",)", "", "workspaces[0].client_id"},
      {R"("client_secret_file": "/run/secrets/azure",)", "", "no credential"},
      {R"("poll_interval": "30s")", R"("poll_interval": "soon")", "workspaces[0].poll_interval"},
      {R"("lookback": "72h")", R"("lookback": "72h", "cloud": "Mars")", "workspaces[0].cloud"},
      {R"("lookback": "72h")", R"("lookback": "72h", "start_at": "yesterday")",
       "workspaces[0].start_at"},
      {R"({"preset": "SigninLogs"},)", R"({"custom": {"name": "x"}},)",
       "workspaces[0].queries[0].custom.kql"},
      {R"({"preset": "SigninLogs"},)", R"({"preset": "heartbeat"},)", "listed twice"},
      {R"("lookback": "72h")", R"("lookback": "72h", "cloud": "Custom", "query_host": "h")",
       "workspaces[0].authority_host"},
  };
  for (const Case& c : cases) {
    std::string json(kGood);
    size_t at = json.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    json.replace(at, c.from.size(), c.to);
    auto settings = Resolve(json);
    ASSERT_FALSE(settings.ok()) << c.field;
    EXPECT_EQ(settings.status().code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(settings.status().message(), HasSubstr(c.field));
  }
}

TEST(ConfigTest, TwoPairsThatWouldShareACheckpointFileAreRejected) {
  // "corp.prod" + "SigninLogs" and "corp" + "prod.SigninLogs" both make
  // corp.prod.SigninLogs.json.
  constexpr absl::string_view kWorkspace = R"({
    "name": "NAME",
    "tenant_id": "11111111-1111-1111-1111-111111111111",
    "client_id": "22222222-2222-2222-2222-222222222222",
    "client_secret_file": "/run/secrets/azure",
    "workspace_id": "33333333-3333-3333-3333-333333333333",
    "queries": [QUERY]
  })";
  const auto workspace = [&](absl::string_view name, absl::string_view query) {
    std::string w(kWorkspace);
    w.replace(w.find("NAME"), 4, std::string(name));
    w.replace(w.find("QUERY"), 5, std::string(query));
    return w;
  };
  const std::string json = absl::StrCat(
      R"({"workspaces": [)",
      workspace("corp.prod", R"({"preset": "SigninLogs"})"), ",",
      workspace("corp", R"({"custom": {"name": "prod.SigninLogs", "kql": "SigninLogs"}})"),
      R"(], "engine": {"socket": "/tmp/engine.sock"}})");
  auto settings = Resolve(json);
  ASSERT_FALSE(settings.ok());
  EXPECT_EQ(settings.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(settings.status().message(), HasSubstr("workspaces[1].queries[0]"));
  EXPECT_THAT(settings.status().message(), HasSubstr("corp.prod.SigninLogs.json"));
  // Without the meeting dots, the same two workspaces are fine.
  const std::string apart = absl::StrCat(
      R"({"workspaces": [)",
      workspace("corp.prod", R"({"preset": "SigninLogs"})"), ",",
      workspace("corp", R"({"custom": {"name": "prodSigninLogs", "kql": "SigninLogs"}})"),
      R"(], "engine": {"socket": "/tmp/engine.sock"}})");
  EXPECT_TRUE(Resolve(apart).ok()) << Resolve(apart).status();
}

TEST(ConfigTest, TwoCredentialsAreRejectedByTheSchema) {
  std::string json(kGood);
  json.replace(json.find(R"("client_secret_file")"), 0, R"("client_secret_env": "X", )");
  auto settings = Resolve(json);
  ASSERT_FALSE(settings.ok());
  EXPECT_THAT(settings.status().message(), HasSubstr("oneof"));
}

TEST(ConfigTest, EnvironmentAndFlagsOverrideTheFile) {
  auto from_env = Resolve(kGood, FakeEnv({{"AZURE_LA_ENGINE_SOCKET", "/e.sock"},
                                          {"AZURE_LA_LOG_LEVEL", "debug"}}));
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_EQ(from_env->engine_socket, "/e.sock");
  EXPECT_EQ(from_env->log_level, "debug");
  Overrides flags;
  flags.engine_socket = "/f.sock";
  flags.state_dir = "/f-state";
  auto from_flags = Resolve(kGood, FakeEnv({{"AZURE_LA_ENGINE_SOCKET", "/e.sock"}}), flags);
  ASSERT_TRUE(from_flags.ok()) << from_flags.status();
  EXPECT_EQ(from_flags->engine_socket, "/f.sock");
  EXPECT_EQ(from_flags->state_dir, "/f-state");
}

TEST(ConfigTest, DefaultSocketComesFromWorkDir) {
  std::string json(kGood);
  json.replace(json.find(R"("engine": {"socket": "/tmp/engine.sock"},)"),
               std::string(R"("engine": {"socket": "/tmp/engine.sock"},)").size(), "");
  auto settings = Resolve(json, FakeEnv({{"WORK_DIR", "/opt/utm"}}));
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->engine_socket, "/opt/utm/sockets/engine_server.sock");
  auto plain = Resolve(json);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->engine_socket, "/workdir/sockets/engine_server.sock");
}

TEST(ConfigTest, OverlongSocketPathSaysTheLimit) {
  Overrides flags;
  flags.engine_socket = "/" + std::string(120, 'a') + ".sock";
  auto settings = Resolve(kGood, FakeEnv({}), flags);
  ASSERT_FALSE(settings.ok());
  EXPECT_THAT(settings.status().message(), HasSubstr("engine.socket"));
  EXPECT_THAT(settings.status().message(), HasSubstr("107 bytes"));
}

TEST(ConfigTest, MissingFileIsNotFound) {
  auto settings = LoadSettings("/nonexistent/config.json", FakeEnv({}));
  ASSERT_FALSE(settings.ok());
  EXPECT_EQ(settings.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(settings.status().message(), HasSubstr("/nonexistent/config.json"));
}

TEST(ConfigTest, ExampleConfigInTheRepositoryIsValid) {
  auto settings = LoadSettings("config.example.json", FakeEnv({}));
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_FALSE(settings->workspaces.empty());
}

}  // namespace
}  // namespace plugin_main
