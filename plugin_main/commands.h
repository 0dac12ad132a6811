// File: plugin_main/commands.h
//
// The binary's subcommands as functions, so tests and other binaries can run them:
// RunCommand (the service), CheckCommand (the integration checks), BackfillCommand.
// Each returns the process exit code: 0 success, 1 failure at run time, 2 bad usage or
// configuration.
//
// Example:
//   plugin_main::CommandContext context;
//   context.env = plugin_main::ProcessEnv();
//   return plugin_main::RunCommand("/etc/azure-la/config.json", /*once=*/false, context);
//
// RunCommand installs handlers for SIGTERM/SIGINT (drain and exit) and SIGHUP (reload the
// config file); BackfillCommand ends at any of them, leaving its checkpoint at the last
// acknowledged page. Call them from the main thread.
#ifndef PLUGIN_MAIN_COMMANDS_H_
#define PLUGIN_MAIN_COMMANDS_H_

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/json_log.h"
#include "loganalytics/sleeper.h"
#include "plugin_main/checkpoint_store.h"
#include "plugin_main/collector.h"
#include "plugin_main/collector_service.h"
#include "plugin_main/config.h"
#include "plugin_main/engine_health_log.h"
#include "plugin_main/metrics_server.h"
#include "plugin_main/runtime.h"
#include "plugin_main/scheduler.h"
#include "plugin_main/utmstack_config.h"
#include "proto/plugins.grpc.pb.h"
#include "utmstack_sink/engine_sink.h"
#include "utmstack_sink/json_lines_sink.h"

namespace plugin_main {

struct CommandContext {
  Overrides overrides;
  Env env = ProcessEnv();
  FILE* out = stdout;
  // Where JSON log lines go.
  FILE* log_out = stderr;
  // How long SIGTERM/SIGINT waits for the page in hand and the engine's acks.
  absl::Duration drain_deadline = absl::Seconds(30);
  // UTMStack console mode: how often the AZURE module's groups are re-read.
  absl::Duration console_poll = absl::Seconds(300);
  // `run --once`: give up waiting for every query to catch up after this long.
  absl::Duration once_deadline = absl::Hours(6);
};

namespace commands_internal {

// Blocks the signals the service handles in this thread and every thread it starts
// afterwards, so they are taken only by sigtimedwait in the main loop.
inline sigset_t BlockServiceSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Waits up to `timeout` for one of `set`; returns the signal or 0.
inline int WaitForSignal(const sigset_t& set, absl::Duration timeout) {
  timespec ts = absl::ToTimespec(timeout);
  int sig = sigtimedwait(&set, nullptr, &ts);
  return sig > 0 ? sig : 0;
}

inline const char* SignalName(int sig) {
  switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    default: return "a signal";
  }
}

// Takes the first of `set` (blocked by BlockServiceSignals) on a thread of its own and
// requests `stop`: the main thread may be deep in a retry wait or a limiter wait of the
// page in hand, which only the stop ends. Stops listening when destroyed.
class StopOnSignal {
 public:
  StopOnSignal(const sigset_t& set, std::shared_ptr<loganalytics::StopSignal> stop)
      : thread_([this, set, stop = std::move(stop)] {
          while (!done_.load()) {
            // A short timeout, so that the destructor does not wait long for the thread.
            if (int sig = WaitForSignal(set, absl::Milliseconds(50)); sig != 0) {
              signal_.store(sig);
              stop->Stop();
              return;
            }
          }
        }) {}
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;
  ~StopOnSignal() {
    done_.store(true);
    thread_.join();
  }
  // The signal taken, or 0.
  int signal() const { return signal_.load(); }

 private:
  std::atomic<bool> done_{false};
  std::atomic<int> signal_{0};
  std::thread thread_;  // last: starts once the flags above exist
};

// Prometheus text for the counters of every (workspace, query) and of the engine sink.
inline std::string RenderPrometheus(
    const std::vector<std::pair<std::string, CollectorStats>>& collectors,
    const utmstack_sink::EngineSinkStats& sink, absl::Time now) {
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help, auto value) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
    for (const auto& [task, stats] : collectors) {
      const size_t slash = task.find('/');
      absl::StrAppend(&out, name, "{workspace=\"", task.substr(0, slash), "\",query=\"",
                      task.substr(slash + 1), "\"} ", value(stats), "\n");
    }
  };
  family("azure_la_pages_total", "counter", "Pages delivered and checkpointed.",
         [](const CollectorStats& s) { return absl::StrCat(s.pages); });
  family("azure_la_rows_total", "counter", "Logs acknowledged by the engine.",
         [](const CollectorStats& s) { return absl::StrCat(s.rows); });
  family("azure_la_bytes_total", "counter", "Bytes of Log.raw acknowledged.",
         [](const CollectorStats& s) { return absl::StrCat(s.bytes); });
  family("azure_la_retries_total", "counter", "Extra Query API requests made by retries.",
         [](const CollectorStats& s) { return absl::StrCat(s.retries); });
  family("azure_la_throttles_total", "counter", "Pages that ended throttled (429).",
         [](const CollectorStats& s) { return absl::StrCat(s.throttles); });
  family("azure_la_truncations_total", "counter", "Truncated answers re-read smaller.",
         [](const CollectorStats& s) { return absl::StrCat(s.truncations); });
  family("azure_la_refused_logs_total", "counter",
         "Logs the engine can never take, set aside in refused_logs.jsonl.",
         [](const CollectorStats& s) { return absl::StrCat(s.refused); });
  family("azure_la_errors_total", "counter", "Failed runs.",
         [](const CollectorStats& s) { return absl::StrCat(s.errors); });
  family("azure_la_lag_seconds", "gauge", "Now minus the cursor's ingestion time.",
         [now](const CollectorStats& s) {
           return s.cursor == absl::InfinitePast()
                      ? std::string("NaN")
                      : absl::StrCat(absl::ToDoubleSeconds(now - s.cursor));
         });
  absl::StrAppend(&out, "# TYPE azure_la_engine_acked_total counter\nazure_la_engine_acked_total ",
                  sink.acked, "\n# TYPE azure_la_engine_resent_total counter\n"
                  "azure_la_engine_resent_total ", sink.resent,
                  "\n# TYPE azure_la_engine_reconnects_total counter\n"
                  "azure_la_engine_reconnects_total ", sink.reconnects,
                  "\n# TYPE azure_la_engine_pending_logs gauge\nazure_la_engine_pending_logs ",
                  sink.pending_logs, "\n");
  return out;
}

// The workspace settings every console group gets (the console holds only the four
// connection values). Private endpoints (and tests) set AZURE_LA_AUTHORITY_HOST,
// AZURE_LA_QUERY_HOST and AZURE_LA_SCOPE for a custom cloud, and AZURE_LA_CA_FILE for
// the CA bundle to verify them with.
inline WorkspaceSettings ConsoleDefaults(const Env& env) {
  WorkspaceSettings ws;
  ws.proto.set_cloud("AzurePublic");
  auto authority = env("AZURE_LA_AUTHORITY_HOST");
  auto query_host = env("AZURE_LA_QUERY_HOST");
  if (authority && query_host && !authority->empty() && !query_host->empty()) {
    ws.proto.set_cloud("Custom");
    ws.proto.set_authority_host(*authority);
    ws.proto.set_query_host(*query_host);
    ws.proto.set_scope(env("AZURE_LA_SCOPE").value_or("https://api.loganalytics.io/.default"));
  }
  ws.proto.set_ca_file(env("AZURE_LA_CA_FILE").value_or(""));
  for (const char* preset : {"AzureActivity", "SigninLogs", "AuditLogs", "SecurityAlert"}) {
    ws.queries.push_back(QuerySettings{preset, preset, "", ""});
  }
  ws.poll_interval = absl::Seconds(60);
  ws.settle_delay = absl::Minutes(2);
  ws.lookback = absl::Hours(48);
  if (auto settle = env("AZURE_LA_SETTLE_DELAY")) {
    absl::Duration d;
    if (absl::ParseDuration(*settle, &d) && d >= absl::ZeroDuration()) ws.settle_delay = d;
  }
  if (auto start = env("AZURE_LA_START_AT")) {
    absl::Time t;
    std::string err;
    if (absl::ParseTime(absl::RFC3339_full, *start, &t, &err)) ws.start_at = t;
  }
  return ws;
}

// The file in the state directory where Logs the engine can never take are set aside
// (one JSON line each, fsynced before their page is committed).
inline std::string RefusedLogsPath(const std::string& state_dir) {
  return absl::StrCat(state_dir, "/refused_logs.jsonl");
}

inline absl::StatusOr<std::shared_ptr<utmstack_sink::Sink>> OpenRefusedLogs(
    const std::string& state_dir) {
  auto sink = utmstack_sink::JsonLinesSink::Open(RefusedLogsPath(state_dir));
  if (!sink.ok()) return sink.status();
  return std::shared_ptr<utmstack_sink::Sink>(std::move(*sink));
}

}  // namespace commands_internal

// Loads settings from `config_path`, or — when it is empty — from UTMStack
// ($WORK_DIR/pipeline and the backend). Logs the reason and returns it on failure.
inline absl::StatusOr<Settings> LoadServiceSettings(const std::string& config_path,
                                                    const CommandContext& context,
                                                    common::JsonLogger& log) {
  if (!config_path.empty()) return LoadSettings(config_path, context.env, context.overrides);
  const std::string work_dir = context.env("WORK_DIR").value_or("/workdir");
  auto pipeline = ReadPipelineSettings(work_dir + "/pipeline");
  if (!pipeline.ok()) {
    return absl::Status(pipeline.status().code(),
                        absl::StrCat("no --config given and no UTMStack settings: ",
                                     pipeline.status().message()));
  }
  // The backend is verified with the system's CA bundle, or AZURE_LA_BACKEND_CA_FILE.
  http::CurlTransport::Options backend_tls;
  backend_tls.ca_file = context.env("AZURE_LA_BACKEND_CA_FILE").value_or("");
  ModuleConfigClient client(std::make_shared<http::CurlTransport>(backend_tls), *pipeline);
  auto groups = client.Fetch(commands_internal::ConsoleDefaults(context.env));
  if (!groups.ok()) return groups.status();
  for (const std::string& problem : groups->problems) log.Warning(problem);
  Settings settings;
  // Engine, state and log settings: environment and flags over UTMStack's defaults.
  settings.engine_socket = context.overrides.engine_socket;
  if (settings.engine_socket.empty()) {
    settings.engine_socket =
        context.env("AZURE_LA_ENGINE_SOCKET").value_or(work_dir + "/sockets/engine_server.sock");
  }
  settings.state_dir = context.overrides.state_dir;
  if (settings.state_dir.empty()) {
    settings.state_dir =
        context.env("AZURE_LA_STATE_DIR").value_or(work_dir + "/azure-loganalytics/state");
  }
  settings.tenant_id = std::string(kDefaultTenantId);
  settings.log_level = context.overrides.log_level.empty()
                           ? context.env("AZURE_LA_LOG_LEVEL").value_or("info")
                           : context.overrides.log_level;
  settings.workspaces = groups->module_active ? groups->workspaces
                                              : std::vector<WorkspaceSettings>{};
  if (!groups->module_active) log.Warning("the AZURE module is not active in UTMStack");
  return settings;
}

// `run`: the service. With `once`, every query is read until caught up, then the
// process exits (the demo and batch use).
inline int RunCommand(const std::string& config_path, bool once, const CommandContext& context) {
  const sigset_t signals = commands_internal::BlockServiceSignals();
  auto log = std::make_shared<common::JsonLogger>(context.log_out, common::LogLevel::kInfo);
  auto settings = LoadServiceSettings(config_path, context, *log);
  if (!settings.ok()) {
    log->Error("cannot start: configuration", {{"error", settings.status().message()}});
    return 2;
  }
  log->set_level(common::ParseLogLevel(settings->log_level));
  auto store = std::make_shared<FileCheckpointStore>(settings->state_dir);
  if (absl::Status s = store->EnsureDirectory(); !s.ok()) {
    log->Error("cannot start: state directory", {{"error", s.message()}});
    return 2;
  }
  utmstack_sink::EngineSinkOptions sink_options;
  sink_options.socket_path = settings->engine_socket;
  auto engine = utmstack_sink::EngineSink::Create(sink_options);
  if (!engine.ok()) {
    log->Error("cannot start: engine", {{"error", engine.status().message()}});
    return 2;
  }
  utmstack_sink::EngineSink* engine_sink = engine->get();
  // The sink reconnects silently; this says when the engine went away and came back.
  EngineHealthLog engine_health(log, settings->engine_socket);
  std::shared_ptr<utmstack_sink::Sink> sink(std::move(*engine));
  auto refused = commands_internal::OpenRefusedLogs(settings->state_dir);
  if (!refused.ok()) {
    log->Error("cannot start: state directory", {{"error", refused.status().message()}});
    return 2;
  }
  const absl::Time started = absl::Now();
  CollectorService service(log, sink, store, /*threads=*/4, *refused,
                           commands_internal::RefusedLogsPath(settings->state_dir));
  std::unique_ptr<MetricsServer> metrics;
  if (settings->metrics_port > 0) {
    metrics = std::make_unique<MetricsServer>([&service, engine_sink] {
      return commands_internal::RenderPrometheus(service.Snapshot(), engine_sink->stats(),
                                                 absl::Now());
    });
    if (absl::Status s = metrics->Start(settings->metrics_port); !s.ok()) {
      log->Error("metrics endpoint not started", {{"error", s.message()}});
      metrics.reset();
    }
  }
  int failed = service.Apply(*settings);
  if (service.size() == 0 && config_path.empty()) {
    log->Warning("no complete AZURE group configured yet; waiting for one in the console");
  } else if (service.size() == 0) {
    log->Error("cannot start: no query could be started");
    return 2;
  }
  log->Info("service started", {{"engine_socket", settings->engine_socket},
                                {"state_dir", settings->state_dir}},
            {{"queries", double(service.size())}, {"workspaces",
                                                   double(settings->workspaces.size())}});
  service.Start();

  int exit_code = 0;
  absl::Time next_report = absl::Now() + absl::Minutes(1);
  absl::Time next_console_poll = absl::Now() + context.console_poll;
  while (true) {
    if (once) {
      bool idle = service.WaitUntilIdle(absl::Now() + absl::Milliseconds(200));
      if (idle) break;
      if (absl::Now() - started > context.once_deadline) {
        log->Error("run --once: queries did not catch up in time");
        exit_code = 1;
        break;
      }
    }
    int sig = commands_internal::WaitForSignal(signals, once ? absl::Milliseconds(1)
                                                             : absl::Seconds(1));
    engine_health.Observe(engine_sink->stats());
    if (sig == SIGTERM || sig == SIGINT) {
      log->Info("stopping: finishing the pages in hand", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      break;
    }
    if (sig == SIGHUP || (config_path.empty() && absl::Now() >= next_console_poll)) {
      next_console_poll = absl::Now() + context.console_poll;
      auto reloaded = LoadServiceSettings(config_path, context, *log);
      if (!reloaded.ok()) {
        log->Error("reload failed; keeping the running configuration",
                   {{"error", reloaded.status().message()}});
      } else {
        log->set_level(common::ParseLogLevel(reloaded->log_level));
        service.Apply(*reloaded);
        if (sig == SIGHUP) log->Info("configuration reloaded", {}, {{"queries", double(service.size())}});
      }
    }
    if (absl::Now() >= next_report) {
      service.Report(/*log_each=*/true);
      next_report = absl::Now() + absl::Minutes(1);
    }
  }
  service.Stop();
  if (metrics) metrics->Stop();
  absl::Status closed = sink->Close(absl::Now() + context.drain_deadline);
  CollectorStats total = service.Report(/*log_each=*/!once);
  if (!closed.ok()) {
    log->Error("engine did not acknowledge everything before exit; those pages will be read "
               "again at the next start",
               {{"error", closed.message()}});
    exit_code = 1;
  }
  if (total.errors > 0 && once) exit_code = 1;
  std::fprintf(context.out,
               "delivered %llu logs from %zu workspace(s), %zu query(s) in %s; %llu error(s)%s\n",
               static_cast<unsigned long long>(total.rows), settings->workspaces.size(),
               service.size(), absl::FormatDuration(absl::Trunc(absl::Now() - started,
                                                               absl::Milliseconds(10))).c_str(),
               static_cast<unsigned long long>(total.errors),
               failed > 0 ? absl::StrCat("; ", failed, " not started").c_str() : "");
  std::fflush(context.out);
  return exit_code;
}


namespace commands_internal {

// One line of `check`'s report.
struct CheckLine {
  bool ok = false;
  std::string what;
  std::string detail;  // the error, or what was found
  std::string fix;     // for a failed step
};

inline void PrintCheck(FILE* out, const CheckLine& line) {
  std::fprintf(out, "%s %s%s%s\n", line.ok ? "\u2713" : "\u2717", line.what.c_str(),
               line.detail.empty() ? "" : ": ", line.detail.c_str());
  if (!line.ok && !line.fix.empty()) std::fprintf(out, "    fix: %s\n", line.fix.c_str());
}

inline std::string FixFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnauthenticated:
      return "check the tenant id, client id and secret (or certificate) of the app "
             "registration; a new secret goes under App registrations > Certificates & secrets";
    case absl::StatusCode::kPermissionDenied:
      return "in the workspace: Access control (IAM) > Add role assignment > Log Analytics "
             "Reader > the app (and check Conditional Access)";
    case absl::StatusCode::kNotFound:
      return "check the id against the Azure portal (Entra ID overview for the tenant, the "
             "workspace's overview for the Workspace ID)";
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return "check network access (proxy settings HTTPS_PROXY/NO_PROXY, firewall) to the "
             "Azure endpoints, then try again";
    case absl::StatusCode::kResourceExhausted:
      return "Azure is throttling this identity; wait and try again";
    default:
      return "see the error above";
  }
}

}  // namespace commands_internal

// `check`: walks the integration steps (credentials → token, workspace reachable, Log
// Analytics Reader, data in each configured table in the last 24 h, engine socket) and
// prints one ✓/✗ line each, with the fix for every ✗. Returns 0 when all pass, 1 when
// one fails, 2 for an unusable configuration.
inline int CheckCommand(const std::string& config_path, const CommandContext& context) {
  using commands_internal::CheckLine;
  using commands_internal::FixFor;
  using commands_internal::PrintCheck;
  auto log = std::make_shared<common::JsonLogger>(context.log_out, common::LogLevel::kError);
  auto settings = LoadServiceSettings(config_path, context, *log);
  if (!settings.ok()) {
    PrintCheck(context.out, {false, "configuration", std::string(settings.status().message()),
                             "correct the named field"});
    return 2;
  }
  PrintCheck(context.out, {true, "configuration", absl::StrCat(settings->workspaces.size(),
                                                               " workspace(s)"), ""});
  bool all_ok = true;
  auto report = [&](CheckLine line) {
    all_ok = all_ok && line.ok;
    PrintCheck(context.out, line);
  };
  Runtime runtime(*settings, log);
  const absl::Time now = absl::Now();
  for (const WorkspaceSettings& ws : settings->workspaces) {
    const std::string name = ws.proto.name();
    auto parts = runtime.Workspace(ws);
    if (!parts.ok()) {
      report({false, absl::StrCat(name, ": credential settings"),
              std::string(parts.status().message()), "correct the workspace's credential"});
      continue;
    }
    auto token = parts->credential->GetToken(parts->cloud.scope);
    if (!token.ok()) {
      report({false, absl::StrCat(name, ": token from Entra ID"),
              std::string(token.status().message()), FixFor(token.status())});
      continue;
    }
    report({true, absl::StrCat(name, ": token from Entra ID"), parts->credential->Describe(),
            ""});
    loganalytics::QueryOptions probe_options;
    probe_options.what = "connection check";
    // Touches the workspace (and so the permission on it) without reading data.
    auto probe = parts->client->Query(
        ws.proto.workspace_id(), "union * | take 0",
        loganalytics_internal::FormatTimespan(now - absl::Hours(1), now), probe_options);
    if (!probe.ok()) {
      const bool denied = probe.status().code() == absl::StatusCode::kPermissionDenied;
      const bool missing = probe.status().code() == absl::StatusCode::kNotFound;
      report({false,
              absl::StrCat(name, denied    ? ": Log Analytics Reader permission"
                                 : missing ? ": workspace reachable"
                                           : ": workspace query"),
              std::string(probe.status().message()), FixFor(probe.status())});
      continue;
    }
    report({true, absl::StrCat(name, ": workspace ", ws.proto.workspace_id(), " reachable"), "",
            ""});
    report({true, absl::StrCat(name, ": Log Analytics Reader permission"), "", ""});
    for (const QuerySettings& query : ws.queries) {
      const std::string what = absl::StrCat(name, ": ", query.name, " has data in the last 24 h");
      auto options = runtime.PaginatorOptionsFor(ws, query);
      if (!options.ok()) {
        report({false, what, std::string(options.status().message()), "fix the query name"});
        continue;
      }
      loganalytics::QueryOptions data_options;
      data_options.what = query.name;
      auto answer = parts->client->Query(
          ws.proto.workspace_id(), absl::StrCat(options->base_query, "\n| take 1"),
          loganalytics_internal::FormatTimespan(now - absl::Hours(24), now), data_options);
      if (!answer.ok()) {
        report({false, what, std::string(answer.status().message()),
                answer.status().code() == absl::StatusCode::kInvalidArgument
                    ? "the table does not exist in this workspace: connect the data source "
                      "(diagnostic settings) or remove the query"
                    : FixFor(answer.status())});
        continue;
      }
      size_t rows = 0;
      if (answer->status == 200 && !answer->body.empty()) {
        auto summary = loganalytics::ConvertAnswer(
            answer->body, options->convert,
            [](plugins::Log&&, const loganalytics::RowMeta&) { return absl::OkStatus(); });
        if (summary.ok()) rows = summary->rows;
      }
      if (rows == 0) {
        report({false, what, "no records",
                "send the source to this workspace (the resource's Diagnostic settings > Send "
                "to Log Analytics workspace), or check the workspace id"});
      } else {
        report({true, what, "", ""});
      }
    }
  }
  {
    const std::string what = absl::StrCat("engine socket ", settings->engine_socket);
    auto channel = grpc::CreateChannel("unix://" + settings->engine_socket,
                                       grpc::InsecureChannelCredentials());
    if (channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(5)))) {
      report({true, absl::StrCat(what, " accepting connections"), "", ""});
    } else {
      report({false, absl::StrCat(what, " accepting connections"), "no gRPC server answered",
              "start the UTMStack engine, or set engine.socket (or AZURE_LA_ENGINE_SOCKET) to "
              "its socket"});
    }
  }
  std::fprintf(context.out, "%s\n", all_ok ? "all checks passed" : "some checks failed");
  return all_ok ? 0 : 1;
}

// `backfill`: reads one workspace/query from `since` up to now into the engine, with
// progress on stderr (window, rows, rate, ETA). It keeps its own checkpoint
// ("<query>@backfill") so an interrupted backfill resumes, and leaves the service's
// cursor alone. SIGTERM, SIGINT or SIGHUP end it promptly, even while the page in hand
// waits to retry an Azure outage or for a limiter permit (that page commits nothing),
// with exit code 1 and a line saying where the checkpoint is and how to resume.
inline int BackfillCommand(const std::string& config_path, const std::string& workspace,
                           const std::string& query_name, const std::string& since,
                           const CommandContext& context) {
  const sigset_t signals = commands_internal::BlockServiceSignals();
  auto log = std::make_shared<common::JsonLogger>(context.log_out, common::LogLevel::kWarning);
  absl::Time start;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, since, &start, &err)) {
    std::fprintf(context.log_out, "backfill: --since \"%s\" is not an RFC 3339 time such as "
                                  "2024-01-01T00:00:00Z\n", since.c_str());
    return 2;
  }
  auto settings = LoadServiceSettings(config_path, context, *log);
  if (!settings.ok()) {
    std::fprintf(context.log_out, "backfill: %s\n",
                 std::string(settings.status().message()).c_str());
    return 2;
  }
  const WorkspaceSettings* ws = nullptr;
  const QuerySettings* query = nullptr;
  for (const auto& w : settings->workspaces) {
    if (w.proto.name() != workspace) continue;
    ws = &w;
    for (const auto& q : w.queries) {
      if (q.name == query_name) query = &q;
    }
  }
  if (ws == nullptr || query == nullptr) {
    std::fprintf(context.log_out,
                 "backfill: no query \"%s\" in workspace \"%s\" in the configuration\n",
                 query_name.c_str(), workspace.c_str());
    return 2;
  }
  log->set_level(common::ParseLogLevel(settings->log_level));
  // One stop for the retry waits, the limiter waits and the loop below; a signal
  // requests it (see StopOnSignal).
  auto stop = std::make_shared<loganalytics::StopSignal>();
  Runtime runtime(*settings, log, common::SystemClock(), StoppableLimiters(stop));
  auto parts = runtime.Workspace(*ws);
  auto options = parts.ok() ? runtime.PaginatorOptionsFor(*ws, *query)
                            : absl::StatusOr<loganalytics::PaginatorOptions>(parts.status());
  if (!options.ok()) {
    std::fprintf(context.log_out, "backfill: %s\n",
                 std::string(options.status().message()).c_str());
    return 2;
  }
  auto store = std::make_shared<FileCheckpointStore>(settings->state_dir);
  if (absl::Status s = store->EnsureDirectory(); !s.ok()) {
    std::fprintf(context.log_out, "backfill: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  utmstack_sink::EngineSinkOptions sink_options;
  sink_options.socket_path = settings->engine_socket;
  auto engine = utmstack_sink::EngineSink::Create(sink_options);
  if (!engine.ok()) {
    std::fprintf(context.log_out, "backfill: %s\n",
                 std::string(engine.status().message()).c_str());
    return 2;
  }
  std::shared_ptr<utmstack_sink::Sink> sink(std::move(*engine));
  auto refused = commands_internal::OpenRefusedLogs(settings->state_dir);
  if (!refused.ok()) {
    std::fprintf(context.log_out, "backfill: %s\n",
                 std::string(refused.status().message()).c_str());
    return 2;
  }
  const std::string checkpoint_name = absl::StrCat(query->name, "@backfill");
  CollectorOptions collector_options;
  collector_options.stop = stop;
  collector_options.refused = *refused;
  collector_options.refused_where = commands_internal::RefusedLogsPath(settings->state_dir);
  QueryCollector collector(ws->proto.name(), checkpoint_name, ws->poll_interval, start, *options,
                           parts->client, sink, store, log, collector_options);
  commands_internal::StopOnSignal on_signal(signals, stop);
  // Says where a resumed backfill will start: the saved checkpoint is the last page the
  // engine acknowledged (the page in hand, if any, committed nothing).
  auto report_stop = [&] {
    const char* signal_name = commands_internal::SignalName(on_signal.signal());
    auto saved = store->Load(ws->proto.name(), checkpoint_name);
    if (saved.ok() && saved->has_value()) {
      std::fprintf(context.log_out,
                   "backfill: stopped by %s; nothing after the last acknowledged page was "
                   "committed: run the same backfill command again to resume from %s "
                   "(checkpoint %s/%s)\n",
                   signal_name,
                   absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", (*saved)->ingestion_time,
                                    absl::UTCTimeZone()).c_str(),
                   ws->proto.name().c_str(), checkpoint_name.c_str());
    } else {
      std::fprintf(context.log_out,
                   "backfill: stopped by %s before any page was acknowledged: run the same "
                   "backfill command again to start from %s\n",
                   signal_name, since.c_str());
    }
  };
  const absl::Time began = absl::Now();
  const absl::Time horizon = began - ws->settle_delay;
  absl::Time last_progress = absl::InfinitePast();
  int exit_code = 0;
  int failures = 0;
  while (true) {
    TaskOutcome outcome = collector.RunOnce();
    CollectorStats stats = collector.stats();
    const absl::Time now = absl::Now();
    if (now - last_progress >= absl::Seconds(1) || !outcome.more_available) {
      last_progress = now;
      const absl::Time cursor = stats.cursor == absl::InfinitePast() ? start : stats.cursor;
      const double elapsed = std::max(1e-3, absl::ToDoubleSeconds(now - began));
      const double covered = absl::ToDoubleSeconds(cursor - start);
      const double remaining = absl::ToDoubleSeconds(horizon - cursor);
      const double eta = covered > 0 ? remaining * elapsed / covered : -1;
      std::fprintf(context.log_out,
                   "backfill %s/%s: window %s .. %s, cursor %s, %llu rows, %.0f rows/s, ETA %s\n",
                   ws->proto.name().c_str(), query->name.c_str(),
                   absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", start, absl::UTCTimeZone()).c_str(),
                   absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", horizon, absl::UTCTimeZone()).c_str(),
                   absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", cursor, absl::UTCTimeZone()).c_str(),
                   static_cast<unsigned long long>(stats.rows), stats.rows / elapsed,
                   eta < 0 ? "unknown"
                           : absl::FormatDuration(absl::Trunc(absl::Seconds(eta),
                                                              absl::Seconds(1))).c_str());
    }
    if (outcome.status.ok() && !outcome.more_available) break;  // caught up
    if (stop->stopped()) {
      // Also when RunOnce returned kCancelled for the stop: that is no failure.
      report_stop();
      exit_code = 1;
      break;
    }
    if (!outcome.status.ok()) {
      if (++failures >= 10 || outcome.status.code() == absl::StatusCode::kNotFound ||
          outcome.status.code() == absl::StatusCode::kPermissionDenied ||
          outcome.status.code() == absl::StatusCode::kUnauthenticated ||
          outcome.status.code() == absl::StatusCode::kInvalidArgument) {
        std::fprintf(context.log_out, "backfill: stopped: %s\n",
                     std::string(outcome.status.message()).c_str());
        exit_code = 1;
        break;
      }
      absl::Duration wait = outcome.retry_after > absl::ZeroDuration()
                                ? outcome.retry_after
                                : absl::Seconds(1) * (1 << std::min(failures, 6));
      if (stop->WaitFor(wait)) {
        report_stop();
        exit_code = 1;
        break;
      }
      continue;
    }
    failures = 0;
  }
  absl::Status closed = sink->Close(absl::Now() + context.drain_deadline);
  if (!closed.ok()) exit_code = 1;
  std::fprintf(context.out, "backfill delivered %llu logs\n",
               static_cast<unsigned long long>(collector.stats().rows));
  return exit_code;
}

}  // namespace plugin_main

#endif  // PLUGIN_MAIN_COMMANDS_H_
