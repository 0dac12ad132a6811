// rotating_file_collector: the connector's standard collection loop with a sink of your
// own. It reads the same JSON configuration as the connector (plugin_main's config:
// workspaces, credentials, queries, state_dir; the engine settings are not used) and,
// instead of streaming to the UTMStack engine, writes every event as a JSON line into
// size-rotated files (rotating_file_sink.h).
//
// The wiring is the connector's, from plugin_main's public pieces:
//   plugin_main::LoadSettings        the JSON config + environment
//   plugin_main::FileCheckpointStore durable cursors in state_dir
//   plugin_main::CollectorService    one QueryCollector per (workspace, query) — page ->
//                                    sink -> Flush -> commit -> checkpoint — on a
//                                    scheduler: backlog at full speed, then every
//                                    poll_interval, backoff on failures
// so the delivery guarantee is the connector's: a cursor is saved only after the sink's
// Flush() confirmed every event before it (at-least-once; repeats keep their Log.id).
//
// Example:
//   rotating_file_collector --config=/etc/azure-la/config.json
//     --output_dir=/var/spool/azure-la --max_file_bytes=67108864        (one line)
//   rotating_file_collector ... --once     # read until caught up, then exit
//
// It runs until SIGTERM or SIGINT (then finishes the pages in hand), or with --once until
// every query is caught up. It prints one summary line on stdout at the end.
// Exit status: 0; 1 when a query failed (--once) or the sink could not be closed;
// 2 for a bad configuration or flags.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/json_log.h"
#include "examples/rotating_file_collector/rotating_file_sink.h"
#include "plugin_main/checkpoint_store.h"
#include "plugin_main/collector.h"
#include "plugin_main/collector_service.h"
#include "plugin_main/config.h"
#include "utmstack_sink/sink.h"

ABSL_FLAG(std::string, config, "", "The connector's JSON configuration file.");
ABSL_FLAG(std::string, state_dir, "", "Overrides the configuration's state_dir (cursors).");
ABSL_FLAG(std::string, output_dir, "", "Where the rotated JSON-lines files go.");
ABSL_FLAG(std::string, file_prefix, "events", "Files are <prefix>-NNNNNN.jsonl.");
ABSL_FLAG(uint64_t, max_file_bytes, uint64_t{64} << 20, "Start a new file past this size.");
ABSL_FLAG(int, max_files, 0, "Keep at most this many files (0: all).");
ABSL_FLAG(int, threads, 4, "Queries read at the same time.");
ABSL_FLAG(bool, once, false, "Read every query until caught up, then exit.");
ABSL_FLAG(absl::Duration, once_deadline, absl::Hours(6), "--once: give up after this long.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Collects Log Analytics queries into size-rotated JSON-lines files.\n"
      "  rotating_file_collector --config=FILE --output_dir=DIR [--once]");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_config).empty() || absl::GetFlag(FLAGS_output_dir).empty()) {
    std::cerr << "rotating_file_collector: give --config and --output_dir (see --help)\n";
    return 2;
  }
  // SIGTERM/SIGINT are taken by sigtimedwait below; block them before any thread starts
  // so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto log = std::make_shared<common::JsonLogger>(stderr, common::LogLevel::kInfo);
  plugin_main::Overrides overrides;
  overrides.state_dir = absl::GetFlag(FLAGS_state_dir);
  absl::StatusOr<plugin_main::Settings> settings =
      plugin_main::LoadSettings(absl::GetFlag(FLAGS_config), plugin_main::ProcessEnv(), overrides);
  if (!settings.ok()) {
    log->Error("cannot start: configuration", {{"error", settings.status().message()}});
    return 2;
  }
  log->set_level(common::ParseLogLevel(settings->log_level));

  auto store = std::make_shared<plugin_main::FileCheckpointStore>(settings->state_dir);
  if (absl::Status s = store->EnsureDirectory(); !s.ok()) {
    log->Error("cannot start: state directory", {{"error", s.message()}});
    return 2;
  }
  rotating_file::RotatingFileSinkOptions sink_options;
  sink_options.directory = absl::GetFlag(FLAGS_output_dir);
  sink_options.prefix = absl::GetFlag(FLAGS_file_prefix);
  sink_options.max_file_bytes = absl::GetFlag(FLAGS_max_file_bytes);
  sink_options.max_files = absl::GetFlag(FLAGS_max_files);
  absl::StatusOr<std::unique_ptr<rotating_file::RotatingFileSink>> opened =
      rotating_file::RotatingFileSink::Open(sink_options);
  if (!opened.ok()) {
    log->Error("cannot start: output directory", {{"error", opened.status().message()}});
    return 2;
  }
  std::shared_ptr<rotating_file::RotatingFileSink> files(std::move(*opened));
  std::shared_ptr<utmstack_sink::Sink> sink = files;  // the seam the collectors see

  // The standard collector (one QueryCollector per workspace x query on a scheduler),
  // with this program's sink plugged in.
  plugin_main::CollectorService service(log, sink, store, absl::GetFlag(FLAGS_threads));
  if (int failed = service.Apply(*settings); failed > 0) {
    log->Error("cannot start: some workspaces or queries were rejected (see above)");
    return 2;
  }

  const absl::Time started = absl::Now();
  service.Start();
  int exit_code = 0;
  while (true) {
    if (absl::GetFlag(FLAGS_once)) {
      if (service.WaitUntilIdle(absl::Now() + absl::Milliseconds(200))) break;
      if (absl::Now() - started > absl::GetFlag(FLAGS_once_deadline)) {
        log->Error("--once: the queries did not catch up in time");
        exit_code = 1;
        break;
      }
    }
    timespec wait = absl::ToTimespec(absl::GetFlag(FLAGS_once) ? absl::Milliseconds(1)
                                                               : absl::Seconds(1));
    if (sigtimedwait(&signals, nullptr, &wait) > 0) {
      log->Info("stopping: finishing the pages in hand");
      break;
    }
  }
  service.Stop();  // waits for the pages in hand to be flushed and checkpointed
  if (absl::Status s = sink->Close(absl::InfiniteFuture()); !s.ok()) {
    log->Error("closing the output failed", {{"error", s.message()}});
    exit_code = 1;
  }

  plugin_main::CollectorStats total;
  for (const auto& [task, s] : service.Snapshot()) {
    total.rows += s.rows;
    total.errors += s.errors;
    if (!s.last_error.empty()) {
      log->Warning("last error", {{"task", task}, {"error", s.last_error}});
    }
  }
  if (absl::GetFlag(FLAGS_once) && total.errors > 0) exit_code = 1;
  std::printf("delivered %llu logs from %zu query(s) into %llu file(s) in %s; %llu error(s)\n",
              static_cast<unsigned long long>(total.rows), service.size(),
              static_cast<unsigned long long>(files->files_opened()),
              sink_options.directory.c_str(), static_cast<unsigned long long>(total.errors));
  return exit_code;
}
