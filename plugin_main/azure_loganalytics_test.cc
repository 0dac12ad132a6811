// The connector binary as an operator runs it, against real fakes: HTTPS fake Entra ID +
// Log Analytics (serving a workspace model), a gRPC fake engine on a Unix socket, a
// plain-HTTP fake UTMStack backend, and real files for config, secrets and checkpoints.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "testdata/fake_azure/fake_azure_server.h"
#include "testdata/fake_engine/fake_engine.h"
#include "testdata/fake_engine/short_temp_dir.h"
#include "testdata/workspace_model/fake_azure_handler.h"
#include "testdata/workspace_model/workspace_model.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBinary[] = "plugin_main/azure_loganalytics";
constexpr char kSecret[] = "s3cret-value-from-file~0123456789";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// A started process with stdout/stderr going to files.
class Process {
 public:
  Process(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
          const std::string& out_path, const std::string& err_path)
      : out_path_(out_path), err_path_(err_path) {
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* out = std::fopen(out_path.c_str(), "w");
      FILE* err = std::fopen(err_path.c_str(), "w");
      ::dup2(fileno(out), 1);
      ::dup2(fileno(err), 2);
      std::vector<std::string> env_strings;
      for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
      std::vector<char*> argv, envp;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      for (auto& e : env_strings) envp.push_back(e.data());
      envp.push_back(nullptr);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
  }
  ~Process() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  void Signal(int sig) { ::kill(pid_, sig); }
  // Waits up to `timeout`; kills the process past it.
  Result Wait(absl::Duration timeout) {
    Result r;
    const absl::Time deadline = absl::Now() + timeout;
    int status = 0;
    while (true) {
      pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) break;
      if (absl::Now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        r.err = "(killed: timed out)\n";
        break;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    reaped_ = true;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = ReadFile(out_path_);
    r.err += ReadFile(err_path_);
    return r;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string out_path_, err_path_;
};

class ConnectorBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok()) << dir_.error();
    fake_azure::FakeAzureServer::Options options;
    options.client_secret = kSecret;
    azure_ = std::make_unique<fake_azure::FakeAzureServer>(options);
    azure_->SetQueryHandler(workspace_model::MakeQueryHandler(&model_));
    ASSERT_TRUE(azure_->Start().ok());
    workspace_id_ = options.workspace_id;
    tenant_id_ = options.tenant_id;
    client_id_ = options.client_id;
    std::ofstream(dir_.Path("secret")) << kSecret << "\n";
    ::chmod(dir_.Path("secret").c_str(), 0600);
    std::ofstream(dir_.Path("ca.pem")) << azure_->ca_pem();
  }

  void StartEngine() {
    fake_engine::FakeEngineOptions options;
    options.socket_path = dir_.Path("engine.sock");
    engine_ = std::make_unique<fake_engine::FakeEngine>(options);
    ASSERT_TRUE(engine_->Start().ok());
  }

  // `count` records in `table`, ingested evenly from `oldest` to `newest` ago (every 5th
  // one made 30 h before its ingestion).
  void AddRecords(const std::string& table, int count, absl::Duration oldest = absl::Hours(1),
                  absl::Duration newest = absl::Seconds(5)) {
    const absl::Time now = absl::Now();
    for (int i = 0; i < count; ++i) {
      workspace_model::Record r;
      r.table = table;
      r.item_id = absl::StrCat(table, "-", 1000000 + next_id_++);
      r.ingestion_time = now - oldest + (oldest - newest) * i / std::max(1, count);
      r.time_generated = r.ingestion_time - (i % 5 == 0 ? absl::Hours(30) : absl::Seconds(20));
      r.columns.push_back(workspace_model::Column::String("UserPrincipalName",
                                                           absl::StrCat("u", i, "@contoso.com")));
      model_.AddRecord(workspace_id_, std::move(r));
    }
  }

  std::string WriteConfig(const std::string& queries, const std::string& extra = "",
                          const std::string& workspace_id = "", int metrics_port = 0) {
    std::string config = absl::StrCat(R"({
  "workspaces": [{
    "name": "prod",
    "tenant_id": ")", tenant_id_, R"(",
    "client_id": ")", client_id_, R"(",
    "client_secret_file": ")", dir_.Path("secret"), R"(",
    "workspace_id": ")", workspace_id.empty() ? workspace_id_ : workspace_id, R"(",
    "cloud": "Custom",
    "authority_host": ")", azure_->base_url(), R"(",
    "query_host": ")", azure_->base_url(), R"(",
    "scope": "https://api.loganalytics.io/.default",
    "ca_file": ")", dir_.Path("ca.pem"), R"(",
    "queries": [)", queries, R"(],
    "poll_interval": "1s",
    "settle_delay": "0s",
    "start_at": ")", absl::FormatTime(absl::RFC3339_full, absl::Now() - absl::Hours(3),
                                      absl::UTCTimeZone()), R"(")", extra, R"(
  }],
  "engine": {"socket": ")", dir_.Path("engine.sock"), R"("},
  "state_dir": ")", dir_.Path("state"), R"(",
  "log_level": "info",
  "metrics_port": )", metrics_port, R"(
})");
    const std::string path = dir_.Path("config.json");
    std::ofstream(path) << config;
    return path;
  }

  std::unique_ptr<Process> Start(std::vector<std::string> args,
                                 std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), kBinary);
    env.emplace("PATH", "/usr/bin:/bin");
    ++runs_;
    return std::make_unique<Process>(args, env, dir_.Path(absl::StrCat("out", runs_)),
                                     dir_.Path(absl::StrCat("err", runs_)));
  }

  // With every query failing (the model's faults set by the caller): waits until
  // `process` met a 5xx and its retry is waiting, sends SIGTERM, and returns what the
  // process printed, expecting it to exit within 5 s.
  Result SigtermOnceARetryWaits(Process& process) {
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (model_.stats().server_errors < 1 && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    EXPECT_GE(model_.stats().server_errors, 1);
    absl::SleepFor(absl::Milliseconds(300));  // the retry is waiting now
    const absl::Time signalled = absl::Now();
    process.Signal(SIGTERM);
    Result stopped = process.Wait(absl::Seconds(60));
    EXPECT_LT(absl::Now() - signalled, absl::Seconds(5));
    return stopped;
  }

  Result Run(std::vector<std::string> args, std::map<std::string, std::string> env = {},
             absl::Duration timeout = absl::Seconds(60)) {
    return Start(std::move(args), std::move(env))->Wait(timeout);
  }

  std::set<std::string> DeliveredItemIds(const std::string& data_source = "") {
    std::set<std::string> ids;
    for (const plugins::Log& log : engine_->received()) {
      if (!data_source.empty() && log.datasource() != data_source) continue;
      size_t at = log.raw().find("\"_ItemId\":\"");
      if (at == std::string::npos) continue;
      at += 11;
      ids.insert(log.raw().substr(at, log.raw().find('"', at) - at));
    }
    return ids;
  }

  fake_engine::ShortTempDir dir_{"azla"};
  workspace_model::WorkspaceModel model_;
  std::unique_ptr<fake_azure::FakeAzureServer> azure_;
  std::unique_ptr<fake_engine::FakeEngine> engine_;
  std::string workspace_id_, tenant_id_, client_id_;
  int next_id_ = 0;
  int runs_ = 0;
};

TEST_F(ConnectorBinaryTest, RunOnceDeliversEveryRecordAndSaysSo) {
  StartEngine();
  AddRecords("SigninLogs", 300);
  AddRecords("AuditLogs", 120);
  Result r = Run({"run", "--config=" + WriteConfig(R"({"preset": "SigninLogs"}, {"preset": "AuditLogs"})"),
                  "--once"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("delivered 420 logs from 1 workspace(s), 2 query(s)"));
  EXPECT_THAT(r.out, HasSubstr("0 error(s)"));
  EXPECT_EQ(DeliveredItemIds().size(), 420u);
  EXPECT_EQ(engine_->received_count(), 420u);
  EXPECT_THAT(r.err, Not(HasSubstr(kSecret)));
  // The state directory and its files are private to the connector's user.
  struct stat st;
  ASSERT_EQ(::stat(dir_.Path("state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
  ASSERT_EQ(::stat(dir_.Path("state/prod.SigninLogs.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  Result status = Run({"status", "--config=" + dir_.Path("config.json")});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_THAT(status.out, HasSubstr("SigninLogs"));
  EXPECT_THAT(status.out, HasSubstr("300"));
}

TEST_F(ConnectorBinaryTest, SigtermDrainsThenARestartDeliversTheRest) {
  StartEngine();
  AddRecords("SigninLogs", 20000);
  auto process = Start({"run", "--config=" + WriteConfig(R"({"preset": "SigninLogs"})")});
  ASSERT_TRUE(engine_->WaitForCount(1, absl::Seconds(30)));
  process->Signal(SIGTERM);
  Result stopped = process->Wait(absl::Seconds(45));
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_THAT(stopped.err, HasSubstr("stopping"));
  // Whatever the checkpoint says was delivered is in the engine's record.
  const uint64_t before_restart = DeliveredItemIds().size();
  Result rest = Run({"run", "--config=" + dir_.Path("config.json"), "--once"});
  EXPECT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_EQ(DeliveredItemIds().size(), 20000u) << "before the restart: " << before_restart;
}

// SIGTERM while Azure answers 5xx to every query: the retry of the page in hand would
// wait and retry for up to 15 minutes; the stop ends its wait, nothing is delivered or
// committed, and the process exits at once.
TEST_F(ConnectorBinaryTest, SigtermDuringAnAzureOutageExitsPromptly) {
  StartEngine();
  AddRecords("SigninLogs", 50);
  workspace_model::RandomFaults outage;
  outage.server_error = 1.0;
  model_.SetRandomFaults(outage);
  auto process = Start({"run", "--config=" + WriteConfig(R"({"preset": "SigninLogs"})")});
  Result stopped = SigtermOnceARetryWaits(*process);
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_THAT(stopped.err, HasSubstr("stopping: retry abandoned after"));
  EXPECT_THAT(stopped.out, HasSubstr("delivered 0 logs"));
  EXPECT_EQ(engine_->received_count(), 0u);
}

// The same for `backfill`: some pages are in, then Azure answers 5xx to every query.
// SIGTERM ends the retry wait of the page in hand at once; that page commits nothing,
// the checkpoint stays at the last acknowledged page, stderr says how to resume, and
// running the same command again resumes there.
TEST_F(ConnectorBinaryTest, SigtermDuringAnAzureOutageEndsABackfillPromptly) {
  StartEngine();
  constexpr size_t kRecords = 30000;  // pages of 10000, 10000, 20000 rows
  AddRecords("SigninLogs", kRecords);
  const std::vector<std::string> backfill = {
      "backfill", "--config=" + WriteConfig(R"({"preset": "SigninLogs"})"),
      "--workspace=prod", "--query=SigninLogs",
      "--since=" + absl::FormatTime(absl::RFC3339_full, absl::Now() - absl::Hours(3),
                                    absl::UTCTimeZone())};
  auto process = Start(backfill);
  ASSERT_TRUE(engine_->WaitForCount(1, absl::Seconds(30)));
  // The first page is on its way to the engine; every query from now on fails.
  workspace_model::RandomFaults outage;
  outage.server_error = 1.0;
  model_.SetRandomFaults(outage);
  Result stopped = SigtermOnceARetryWaits(*process);
  EXPECT_EQ(stopped.exit_code, 1) << stopped.err;
  EXPECT_THAT(stopped.err, HasSubstr("stopping: retry abandoned after"));
  EXPECT_THAT(stopped.err, HasSubstr("backfill: stopped by SIGTERM; nothing after the last "
                                     "acknowledged page was committed: run the same backfill "
                                     "command again to resume from "));
  EXPECT_THAT(stopped.err, HasSubstr("(checkpoint prod/SigninLogs@backfill)"));
  const uint64_t acknowledged = engine_->received_count();
  EXPECT_GE(acknowledged, 10000u);
  EXPECT_LT(acknowledged, kRecords);
  EXPECT_THAT(ReadFile(dir_.Path("state/prod.SigninLogs@backfill.json")),
              HasSubstr(absl::StrCat("\"rows_delivered\": ", acknowledged)))
      << "the checkpoint is at the last acknowledged page";

  // Azure is back: the same command reads on from the checkpoint, not from --since.
  model_.SetRandomFaults(workspace_model::RandomFaults());
  Result rest = Run(backfill);
  EXPECT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_EQ(DeliveredItemIds().size(), kRecords);
  EXPECT_LT(engine_->received_count() - acknowledged, kRecords) << "resumed, not started over";
}

TEST_F(ConnectorBinaryTest, ServesPrometheusCountersOnLoopback) {
  StartEngine();
  AddRecords("SigninLogs", 200);
  // A port that was free a moment ago (bound, read, closed).
  int port = 0;
  {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    ::close(fd);
  }
  auto process = Start({"run", "--config=" + WriteConfig(R"({"preset": "SigninLogs"})", "", "",
                                                          port)});
  ASSERT_TRUE(engine_->WaitForCount(200, absl::Seconds(30)));
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(2, 0);
  client.set_connection_timeout(2, 0);
  std::string body;
  for (int i = 0; i < 100 && !absl::StrContains(body, "} 200"); ++i) {
    if (auto res = client.Get("/metrics")) body = res->body;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_THAT(body, HasSubstr("azure_la_rows_total{workspace=\"prod\",query=\"SigninLogs\"} 200"));
  EXPECT_THAT(body, HasSubstr("azure_la_lag_seconds{workspace=\"prod\",query=\"SigninLogs\"}"));
  EXPECT_THAT(body, HasSubstr("azure_la_engine_acked_total 200"));
  process->Signal(SIGINT);
  EXPECT_EQ(process->Wait(absl::Seconds(40)).exit_code, 0);
}

TEST_F(ConnectorBinaryTest, SighupReloadsTheConfigFileAndStartsNewQueries) {
  StartEngine();
  AddRecords("SigninLogs", 40);
  AddRecords("AuditLogs", 25);
  const std::string config = WriteConfig(R"({"preset": "SigninLogs"})");
  auto process = Start({"run", "--config=" + config});
  ASSERT_TRUE(engine_->WaitForCount(40, absl::Seconds(30)));
  WriteConfig(R"({"preset": "SigninLogs"}, {"preset": "AuditLogs"})");
  process->Signal(SIGHUP);
  EXPECT_TRUE(engine_->WaitForCount(65, absl::Seconds(30)));
  process->Signal(SIGTERM);
  Result r = process->Wait(absl::Seconds(40));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("configuration reloaded"));
  EXPECT_THAT(r.err, HasSubstr("\"query\":\"AuditLogs\",\"message\":\"query started\""));
  EXPECT_EQ(DeliveredItemIds().size(), 65u);
}

TEST_F(ConnectorBinaryTest, CheckPassesWhenEverythingIsInPlace) {
  StartEngine();
  AddRecords("SigninLogs", 5);
  Result r = Run({"check", "--config=" + WriteConfig(R"({"preset": "SigninLogs"})")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("\u2713 prod: token from Entra ID"));
  EXPECT_THAT(r.out, HasSubstr("\u2713 prod: Log Analytics Reader permission"));
  EXPECT_THAT(r.out, HasSubstr("\u2713 prod: SigninLogs has data in the last 24 h"));
  EXPECT_THAT(r.out, HasSubstr("accepting connections"));
  EXPECT_THAT(r.out, HasSubstr("all checks passed"));
  EXPECT_THAT(r.out, Not(HasSubstr("\u2717")));
}

TEST_F(ConnectorBinaryTest, CheckNamesEachFailingStepAndItsFix) {
  AddRecords("SigninLogs", 5);
  AddRecords("AuditLogs", 5, absl::Hours(40), absl::Hours(30));  // only old records
  const std::string config = WriteConfig(
      R"({"preset": "SigninLogs"}, {"preset": "AuditLogs"}, {"preset": "KeyVault"})");

  // No engine: the socket step fails; data steps pass or fail on their own.
  Result no_engine = Run({"check", "--config=" + config});
  EXPECT_EQ(no_engine.exit_code, 1);
  EXPECT_THAT(no_engine.out, HasSubstr("\u2713 prod: SigninLogs has data in the last 24 h"));
  EXPECT_THAT(no_engine.out, HasSubstr("\u2717 prod: AuditLogs has data in the last 24 h: no records"));
  EXPECT_THAT(no_engine.out, HasSubstr("Diagnostic settings"));
  EXPECT_THAT(no_engine.out, HasSubstr("\u2717 prod: KeyVault has data in the last 24 h"));
  EXPECT_THAT(no_engine.out, HasSubstr("does not exist in this workspace"));
  EXPECT_THAT(no_engine.out, HasSubstr("accepting connections: no gRPC server answered"));
  EXPECT_THAT(no_engine.out, HasSubstr("start the UTMStack engine"));

  // A wrong secret: the token step fails and says where to make a new one.
  std::ofstream(dir_.Path("secret")) << "not-the-secret\n";
  Result bad_secret = Run({"check", "--config=" + config});
  EXPECT_EQ(bad_secret.exit_code, 1);
  EXPECT_THAT(bad_secret.out, HasSubstr("\u2717 prod: token from Entra ID"));
  EXPECT_THAT(bad_secret.out, HasSubstr("7000215"));
  EXPECT_THAT(bad_secret.out, HasSubstr("fix: "));
  EXPECT_THAT(bad_secret.out, Not(HasSubstr("not-the-secret")));
  std::ofstream(dir_.Path("secret")) << kSecret << "\n";

  // The Log Analytics Reader role missing.
  azure_->InjectQueryFaults(
      1, 403,
      R"({"error":{"message":"The provided credentials have insufficient access to perform the requested operation","code":"InsufficientAccessError","correlationId":"5c1d"}})");
  Result denied = Run({"check", "--config=" + config});
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_THAT(denied.out, HasSubstr("\u2717 prod: Log Analytics Reader permission"));
  EXPECT_THAT(denied.out, HasSubstr("Add role assignment > Log Analytics Reader"));

  // A workspace id that is not the workspace.
  Result wrong_workspace = Run({"check", "--config=" + WriteConfig(
      R"({"preset": "SigninLogs"})", "", "0a0a0a0a-0b0b-4c0c-8d0d-0e0e0e0e0e0e")});
  EXPECT_EQ(wrong_workspace.exit_code, 1);
  EXPECT_THAT(wrong_workspace.out, HasSubstr("\u2717 prod: workspace reachable"));
  EXPECT_THAT(wrong_workspace.out, HasSubstr("0a0a0a0a-0b0b-4c0c-8d0d-0e0e0e0e0e0e"));
}

TEST_F(ConnectorBinaryTest, ConfigErrorsNameTheField) {
  std::ofstream(dir_.Path("bad.json")) << R"({"workspaces": [{"name": "prod", "queries": [{"preset": "SigninLogs"}]}]})";
  Result r = Run({"run", "--config=" + dir_.Path("bad.json"), "--once"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("workspaces[0].workspace_id"));
}

// A minimal UTMStack backend: the AZURE module's groups, as the console would return
// them; the groups can change while the connector runs.
class FakeBackend {
 public:
  FakeBackend() {
    server_.Get("/api/utm-modules/module-details-decrypted",
                [this](const httplib::Request& req, httplib::Response& res) {
                  if (req.get_header_value("Utm-Internal-Key") != "internal-key-0123") {
                    res.status = 401;
                    res.set_header("X-UtmStack-error", "invalid internal key");
                    return;
                  }
                  absl::MutexLock lock(&mu_);
                  ++fetches_;
                  res.set_content(body_, "application/json");
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeBackend() {
    server_.stop();
    thread_.join();
  }
  void SetGroups(const std::string& groups) {
    absl::MutexLock lock(&mu_);
    body_ = absl::StrCat(R"({"id":31,"moduleName":"AZURE","moduleActive":true,"moduleGroups":[)",
                         groups, "]}");
  }
  int fetches() {
    absl::MutexLock lock(&mu_);
    return fetches_;
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  absl::Mutex mu_;
  std::string body_;
  int fetches_ = 0;
};

std::string Group(int id, const std::string& name, const std::string& tenant,
                  const std::string& client, const std::string& secret,
                  const std::string& workspace) {
  auto conf = [&](const char* key, const char* label, const std::string& value) {
    return absl::StrCat(R"({"confKey":")", key, R"(","confName":")", label,
                        R"(","confValue":")", value, R"(","confDataType":"text","confRequired":true})");
  };
  return absl::StrCat(R"({"id":)", id, R"(,"groupName":")", name,
                      R"(","groupDescription":"","moduleGroupConfigurations":[)",
                      conf("tenantId", "Tenant ID", tenant), ",",
                      conf("clientId", "Client ID", client), ",",
                      conf("clientSecret", "Client Secret", secret), ",",
                      conf("workspaceId", "Workspace ID", workspace), "]}");
}

TEST_F(ConnectorBinaryTest, InsideUtmstackAGroupAddedInTheConsoleStartsWithoutARestart) {
  StartEngine();
  AddRecords("SigninLogs", 50);
  AddRecords("AzureActivity", 30);
  FakeBackend backend;
  backend.SetGroups(Group(1, "east", tenant_id_, client_id_, kSecret, workspace_id_) + "," +
                    Group(2, "incomplete", tenant_id_, client_id_, "", workspace_id_));
  const std::string work_dir = dir_.Path("workdir");
  std::filesystem::create_directories(work_dir + "/pipeline");
  std::ofstream(work_dir + "/pipeline/utm.yaml")
      << "env:\n  mode: manager\nplugins:\n  com.utmstack:\n    backend: http://127.0.0.1:"
      << backend.port() << "\n    internalKey: internal-key-0123\n";
  std::map<std::string, std::string> env = {
      {"WORK_DIR", work_dir},
      {"AZURE_LA_ENGINE_SOCKET", dir_.Path("engine.sock")},
      {"AZURE_LA_AUTHORITY_HOST", azure_->base_url()},
      {"AZURE_LA_QUERY_HOST", azure_->base_url()},
      {"AZURE_LA_CA_FILE", dir_.Path("ca.pem")},
      {"AZURE_LA_SETTLE_DELAY", "0s"},
      {"AZURE_LA_START_AT", absl::FormatTime(absl::RFC3339_full, absl::Now() - absl::Hours(3),
                                             absl::UTCTimeZone())},
  };
  auto process = Start({"run", "--console_poll=1s"}, env);
  auto wait_for = [&](const std::string& source, size_t n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(40);
    while (DeliveredItemIds(source).size() < n && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    return DeliveredItemIds(source).size();
  };
  EXPECT_EQ(wait_for("east", 80), 80u);
  backend.SetGroups(Group(1, "east", tenant_id_, client_id_, kSecret, workspace_id_) + "," +
                    Group(3, "west", tenant_id_, client_id_, kSecret, workspace_id_));
  EXPECT_EQ(wait_for("west", 80), 80u);
  process->Signal(SIGTERM);
  Result r = process->Wait(absl::Seconds(40));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("\\\"incomplete\\\" lacks Client Secret"));
  EXPECT_THAT(r.err, HasSubstr("\"workspace\":\"west\""));
  EXPECT_THAT(r.err, Not(HasSubstr(kSecret)));
  EXPECT_THAT(r.err, Not(HasSubstr("internal-key-0123")));
  EXPECT_GE(backend.fetches(), 2);
}

}  // namespace
