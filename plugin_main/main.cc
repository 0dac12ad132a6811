// The connector binary: `azure_loganalytics <command> [flags]`.
//
//   run       the service (all configured workspaces × queries; --once drains and exits)
//   check     walks the integration checks and says what to fix
//   backfill  one workspace/query from a date, with progress on stderr
//   status    cursor, lag and last error per workspace/query, from the state directory
//   convert   a recorded query answer (file or stdin) to Logs as JSON lines
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "loganalytics/convert/log_converter.h"
#include "plugin_main/commands.h"
#include "plugin_main/config.h"
#include "plugin_main/status_report.h"

ABSL_FLAG(std::string, config, "", "Path of the JSON configuration file.");
ABSL_FLAG(bool, once, false, "run: drain every query until caught up, then exit.");
ABSL_FLAG(std::string, engine_socket, "", "Overrides engine.socket.");
ABSL_FLAG(std::string, state_dir, "", "Overrides state_dir.");
ABSL_FLAG(std::string, log_level, "", "Overrides log_level (debug, info, warning, error).");
ABSL_FLAG(std::string, workspace, "", "backfill: the workspace name.");
ABSL_FLAG(std::string, query, "", "backfill: the query name.");
ABSL_FLAG(std::string, since, "", "backfill: RFC 3339 start time.");
ABSL_FLAG(std::string, input, "-", "convert: answer file, or - for stdin.");
ABSL_FLAG(std::string, workspace_id, "", "convert: workspace id for Log ids.");
ABSL_FLAG(std::string, data_source, "", "convert: Log.dataSource.");
ABSL_FLAG(std::string, data_type, "azure", "convert: Log.dataType.");
ABSL_FLAG(bool, keep_empty_strings, false, "convert: keep empty string values in raw.");
ABSL_FLAG(absl::Duration, console_poll, absl::Seconds(300),
          "run without --config (inside UTMStack): how often the console's AZURE groups "
          "are re-read.");
ABSL_FLAG(absl::Duration, drain_deadline, absl::Seconds(30),
          "run: on SIGTERM/SIGINT, how long to wait for the engine's acknowledgements.");

namespace {

constexpr char kUsage[] =
    "usage: azure_loganalytics <run|check|backfill|status|convert> [flags]\n"
    "  run --config FILE [--once]     the service\n"
    "  check --config FILE            verify credentials, workspace, permission, data, engine\n"
    "  backfill --config FILE --workspace NAME --query NAME --since 2024-01-01T00:00:00Z\n"
    "  status --config FILE | --state_dir DIR\n"
    "  convert [--input FILE] [--workspace_id ID] [--data_source NAME]  answer -> JSON lines\n";

int Convert() {
  std::string body;
  const std::string input = absl::GetFlag(FLAGS_input);
  if (input == "-") {
    body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(input, std::ios::binary);
    if (!in) {
      std::cerr << "convert: cannot read " << input << "\n";
      return 2;
    }
    body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  loganalytics::ConvertOptions options;
  options.workspace_id = absl::GetFlag(FLAGS_workspace_id);
  options.data_source = absl::GetFlag(FLAGS_data_source);
  options.data_type = absl::GetFlag(FLAGS_data_type);
  options.keep_empty_strings = absl::GetFlag(FLAGS_keep_empty_strings);
  auto summary = loganalytics::ConvertAnswerToJsonLines(body, options, std::cout);
  std::cout.flush();
  if (!summary.ok()) {
    std::cerr << "convert: " << summary.status() << "\n";
    return 1;
  }
  std::cerr << "convert: " << summary->rows << " rows from " << summary->tables << " table(s)\n";
  if (!summary->partial_error.ok()) {
    std::cerr << "convert: the answer is incomplete: " << summary->partial_error << "\n";
    return 3;
  }
  return 0;
}

int Status() {
  std::string state_dir = absl::GetFlag(FLAGS_state_dir);
  if (state_dir.empty()) {
    if (absl::GetFlag(FLAGS_config).empty()) {
      std::cerr << "status: give --config FILE or --state_dir DIR\n";
      return 2;
    }
    auto settings = plugin_main::LoadSettings(absl::GetFlag(FLAGS_config),
                                              plugin_main::ProcessEnv());
    if (!settings.ok()) {
      std::cerr << "status: " << settings.status().message() << "\n";
      return 2;
    }
    state_dir = settings->state_dir;
  }
  auto rows = plugin_main::ReadStatus(state_dir, absl::Now());
  if (!rows.ok()) {
    std::cerr << "status: " << rows.status().message() << "\n";
    return 1;
  }
  std::cout << plugin_main::FormatStatusTable(*rows);
  return 0;
}

plugin_main::Overrides FlagOverrides() {
  plugin_main::Overrides o;
  o.engine_socket = absl::GetFlag(FLAGS_engine_socket);
  o.state_dir = absl::GetFlag(FLAGS_state_dir);
  o.log_level = absl::GetFlag(FLAGS_log_level);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian builds abseil with the mutex deadlock detector on; it runs on every lock
  // (gRPC's too) and costs more than the work on the hot path.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() != 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = positional[1];
  if (command == "convert") return Convert();
  if (command == "status") return Status();
  if (command == "run" || command == "check" || command == "backfill") {
    const std::string config_path = absl::GetFlag(FLAGS_config);
    plugin_main::CommandContext context;
    context.overrides = FlagOverrides();
    context.env = plugin_main::ProcessEnv();
    context.console_poll = absl::GetFlag(FLAGS_console_poll);
    context.drain_deadline = absl::GetFlag(FLAGS_drain_deadline);
    if (command == "run") {
      return plugin_main::RunCommand(config_path, absl::GetFlag(FLAGS_once), context);
    }
    if (command == "check") return plugin_main::CheckCommand(config_path, context);
    return plugin_main::BackfillCommand(config_path, absl::GetFlag(FLAGS_workspace),
                                        absl::GetFlag(FLAGS_query), absl::GetFlag(FLAGS_since),
                                        context);
  }
  std::cerr << "unknown command \"" << command << "\"\n" << kUsage;
  return 2;
}
