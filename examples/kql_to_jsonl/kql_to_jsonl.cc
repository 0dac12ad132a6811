// kql_to_jsonl: exports the rows of a KQL query on a Log Analytics workspace as JSON
// lines, with no UTMStack in the way. It shows how the toolkit's pieces fit together in
// a binary of your own:
//
//   azure_auth::MakeCredential   a cached Entra ID credential (secret, certificate,
//                                workload or managed identity)
//   http::CurlTransport          the HTTPS client both of them send through
//   loganalytics::QueryClient    one POST to the Query API per call
//   loganalytics::Paginator      incremental reading by ingestion time, page by page,
//                                with a cursor the program saves after each page
//   loganalytics::ConvertAnswer  (in --mode=single) one answer -> rows
//
// Incremental mode (the default) reads everything ingested after --since, or after the
// cursor saved in --cursor_file by an earlier run, up to a settle delay behind now, and
// stops once caught up. The cursor is written only after the page's lines were flushed
// to the output, so a crash repeats at most the last page: at-least-once, like the
// connector. With the default overlap, a restarted run also repeats the rows of the last
// two minutes before the saved cursor (the same rows, to catch late-visible records).
//
// Single mode runs --query once over --timespan (an ISO 8601 duration such as P1D or an
// interval "start/end") and prints every row of the answer: any KQL, summarize included.
//
// Output: with --format=raw (the default) each line is the row as a JSON object with
// typed values (numbers stay numbers, dynamic columns are nested JSON, nulls left out);
// with --format=log each line is the whole UTMStack Log in protobuf's JSON mapping
// (id, dataType, dataSource, @timestamp, tenantId, raw).
//
// Example (client secret in a file, public cloud):
//   kql_to_jsonl --tenant_id=72f988bf-... --client_id=3f2b9c1e-...
//     --credential_path=/etc/azure/secret --workspace_id=b4c4d9a5-...
//     --query='SigninLogs | where ResultType != 0' --since=2026-11-26T00:00:00Z
//     --cursor_file=signins.cursor --output=signins.jsonl
// (one command line).
//
// Exit status: 0 when everything was read, 1 when reading failed (the message names the
// status code, e.g. UNAUTHENTICATED with the AADSTS code, PERMISSION_DENIED for a missing
// Log Analytics Reader role), 2 for bad flags.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include <unistd.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "azure_auth/cloud.h"
#include "azure_auth/credential_factory.h"
#include "azure_auth/token_credential.h"
#include "google/protobuf/util/json_util.h"
#include "http/curl_transport.h"
#include "loganalytics/convert/log_converter.h"
#include "loganalytics/paginator.h"
#include "loganalytics/query_client.h"
#include "proto/plugins.pb.h"

ABSL_FLAG(std::string, workspace_id, "", "Workspace ID (a GUID) of the Log Analytics workspace.");
ABSL_FLAG(std::string, query, "",
          "KQL. Incremental mode: a table, a union or a filter over them that keeps table "
          "rows (the program appends where/order/take). Single mode: any KQL.");
ABSL_FLAG(std::string, query_name, "query", "Name of the query in messages.");
ABSL_FLAG(std::string, mode, "incremental", "incremental (by ingestion time) or single.");
ABSL_FLAG(std::string, timespan, "P1D", "Single mode: ISO 8601 duration or interval.");
ABSL_FLAG(std::string, since, "",
          "Incremental mode, first run: read records ingested after this RFC 3339 time "
          "(default: 24 hours ago).");
ABSL_FLAG(std::string, cursor_file, "",
          "Incremental mode: where the cursor is kept between runs (empty: not kept).");
ABSL_FLAG(std::string, output, "-", "Output file (appended to), or - for stdout.");
ABSL_FLAG(std::string, format, "raw", "raw (the row as JSON) or log (the UTMStack Log).");
ABSL_FLAG(std::string, credential, "client_secret_file",
          "client_secret_file, client_secret_env, certificate_file, managed_identity, "
          "workload_identity or default.");
ABSL_FLAG(std::string, tenant_id, "", "Directory (tenant) ID of the app registration.");
ABSL_FLAG(std::string, client_id, "", "Application (client) ID of the app registration.");
ABSL_FLAG(std::string, credential_path, "",
          "The client secret file, the PEM certificate file, or the federated token file.");
ABSL_FLAG(std::string, secret_env, "", "client_secret_env: the variable holding the secret.");
ABSL_FLAG(std::string, managed_identity_client_id, "",
          "managed_identity: client id of a user-assigned identity.");
ABSL_FLAG(std::string, cloud, "AzurePublic",
          "AzurePublic, AzureUSGovernment, AzureChina, or Custom (with the three below).");
ABSL_FLAG(std::string, authority_host, "", "Custom cloud: Entra ID authority host or origin.");
ABSL_FLAG(std::string, query_host, "", "Custom cloud: Log Analytics query host or origin.");
ABSL_FLAG(std::string, scope, "https://api.loganalytics.io/.default", "Custom cloud: scope.");
ABSL_FLAG(std::string, ca_file, "", "PEM CA bundle to verify TLS with (default: the system's).");
ABSL_FLAG(absl::Duration, settle, absl::Minutes(3), "How far behind now reading stays.");
ABSL_FLAG(int64_t, page_rows, 10000, "Rows asked for per page (it shrinks on truncation).");
ABSL_FLAG(int64_t, max_pages, 0, "Stop after this many pages (0: until caught up).");
ABSL_FLAG(bool, item_id, true,
          "The query keeps _ItemId (false for tables without it: rows are then keyed by "
          "their content).");
ABSL_FLAG(std::string, data_source, "", "Log.dataSource of --format=log (default: workspace id).");

namespace {

// Where the lines go: stdout or an appended file, flushed (and fsynced) per page.
class Output {
 public:
  static absl::StatusOr<std::unique_ptr<Output>> Open(const std::string& path) {
    if (path == "-") return std::unique_ptr<Output>(new Output(stdout, "stdout", false));
    FILE* file = std::fopen(path.c_str(), "ae");
    if (file == nullptr) {
      return absl::UnavailableError(absl::StrCat("cannot open ", path, " for appending"));
    }
    return std::unique_ptr<Output>(new Output(file, path, true));
  }
  ~Output() {
    if (owned_) std::fclose(file_);
  }

  absl::Status Write(const plugins::Log& log, bool raw) {
    line_.clear();
    if (raw) {
      line_ = log.raw();
    } else {
      auto status = google::protobuf::util::MessageToJsonString(log, &line_);
      if (!status.ok()) {
        return absl::InternalError(absl::StrCat("Log ", log.id(), " cannot be printed as JSON"));
      }
    }
    line_.push_back('\n');
    if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size()) {
      return absl::UnavailableError(absl::StrCat("writing to ", name_, " failed"));
    }
    return absl::OkStatus();
  }

  // After an OK Flush the lines are on disk (a file) or handed to the reader (stdout).
  absl::Status Flush() {
    if (std::fflush(file_) != 0 || (owned_ && ::fsync(fileno(file_)) != 0)) {
      return absl::UnavailableError(absl::StrCat("flushing ", name_, " failed"));
    }
    return absl::OkStatus();
  }

 private:
  Output(FILE* file, std::string name, bool owned)
      : file_(file), name_(std::move(name)), owned_(owned) {}
  FILE* file_;
  std::string name_;
  bool owned_;
  std::string line_;
};

absl::StatusOr<azure_auth::CloudSettings> Cloud() {
  if (absl::GetFlag(FLAGS_cloud) == "Custom") {
    return azure_auth::CustomCloud(absl::GetFlag(FLAGS_authority_host),
                                   absl::GetFlag(FLAGS_query_host),
                                   absl::GetFlag(FLAGS_scope));
  }
  return azure_auth::CloudByName(absl::GetFlag(FLAGS_cloud));
}

absl::StatusOr<azure_auth::CredentialConfig> CredentialConfig(
    const azure_auth::CloudSettings& cloud) {
  absl::StatusOr<azure_auth::CredentialKind> kind =
      azure_auth::CredentialKindByName(absl::GetFlag(FLAGS_credential));
  if (!kind.ok()) return kind.status();
  azure_auth::CredentialConfig config;
  config.kind = *kind;
  config.tenant_id = absl::GetFlag(FLAGS_tenant_id);
  config.client_id = absl::GetFlag(FLAGS_client_id);
  config.path = absl::GetFlag(FLAGS_credential_path);
  config.env_name = absl::GetFlag(FLAGS_secret_env);
  config.managed_identity_client_id = absl::GetFlag(FLAGS_managed_identity_client_id);
  config.cloud = cloud;
  return config;
}

absl::StatusOr<loganalytics::Cursor> StartCursor() {
  const std::string path = absl::GetFlag(FLAGS_cursor_file);
  if (!path.empty()) {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::stringstream text;
      text << in.rdbuf();
      return loganalytics::Cursor::FromJson(text.str());
    }
  }
  absl::Time since = absl::Now() - absl::Hours(24);
  if (const std::string text = absl::GetFlag(FLAGS_since); !text.empty()) {
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, text, &since, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--since \"", text, "\" is not an RFC 3339 time such as "
                       "2026-11-26T00:00:00Z"));
    }
  }
  return loganalytics::Cursor::StartAt(since);
}

// Writes the cursor file so that a crash leaves the old or the new one, never half.
absl::Status SaveCursor(const loganalytics::Cursor& cursor) {
  const std::string path = absl::GetFlag(FLAGS_cursor_file);
  if (path.empty()) return absl::OkStatus();
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << cursor.ToJson() << "\n";
    out.flush();
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", temporary));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot rename ", temporary, " to ", path));
  }
  return absl::OkStatus();
}

int Fail(const absl::Status& status) {
  std::cerr << "kql_to_jsonl: " << absl::StatusCodeToString(status.code()) << ": "
            << status.message() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Exports the rows of a KQL query on a Log Analytics workspace as JSON lines.\n"
      "  kql_to_jsonl --workspace_id=ID --query=KQL --tenant_id=T --client_id=C "
      "--credential_path=SECRET_FILE [--since=TIME] [--cursor_file=F] [--output=F]");
  absl::ParseCommandLine(argc, argv);
  const std::string workspace_id = absl::GetFlag(FLAGS_workspace_id);
  const std::string kql = absl::GetFlag(FLAGS_query);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  const std::string format = absl::GetFlag(FLAGS_format);
  if (workspace_id.empty() || kql.empty() || (mode != "incremental" && mode != "single") ||
      (format != "raw" && format != "log")) {
    std::cerr << "kql_to_jsonl: give --workspace_id and --query; --mode is incremental or "
                 "single, --format raw or log (see --help)\n";
    return 2;
  }
  const bool raw = format == "raw";

  // The seams, wired once: one transport, one cached credential, one client.
  absl::StatusOr<azure_auth::CloudSettings> cloud = Cloud();
  if (!cloud.ok()) return Fail(cloud.status());
  http::CurlTransport::Options transport_options;
  transport_options.ca_file = absl::GetFlag(FLAGS_ca_file);
  auto transport = std::make_shared<http::CurlTransport>(transport_options);
  absl::StatusOr<azure_auth::CredentialConfig> credential_config = CredentialConfig(*cloud);
  if (!credential_config.ok()) return Fail(credential_config.status());
  absl::StatusOr<std::shared_ptr<azure_auth::TokenCredential>> credential =
      azure_auth::MakeCredential(*credential_config, transport);
  if (!credential.ok()) return Fail(credential.status());
  loganalytics::QueryClientOptions client_options;
  client_options.query_host = azure_auth::QueryUrl(*cloud);
  client_options.scope = cloud->scope;
  auto client = std::make_shared<const loganalytics::QueryClient>(transport, *credential,
                                                                  client_options);

  loganalytics::ConvertOptions convert;
  convert.workspace_id = workspace_id;
  convert.data_source = absl::GetFlag(FLAGS_data_source).empty()
                            ? workspace_id
                            : absl::GetFlag(FLAGS_data_source);

  absl::StatusOr<std::unique_ptr<Output>> output = Output::Open(absl::GetFlag(FLAGS_output));
  if (!output.ok()) return Fail(output.status());

  if (mode == "single") {
    loganalytics::QueryOptions what;
    what.what = absl::StrCat("KQL query \"", absl::GetFlag(FLAGS_query_name), "\"");
    absl::StatusOr<loganalytics::QueryResponse> answer =
        client->Query(workspace_id, kql, absl::GetFlag(FLAGS_timespan), what);
    if (!answer.ok()) return Fail(answer.status());
    absl::StatusOr<loganalytics::ConvertSummary> summary = loganalytics::ConvertAnswer(
        answer->body, convert, [&](plugins::Log&& log, const loganalytics::RowMeta&) {
          return (*output)->Write(log, raw);
        });
    if (!summary.ok()) return Fail(summary.status());
    if (absl::Status s = (*output)->Flush(); !s.ok()) return Fail(s);
    if (!summary->partial_error.ok()) return Fail(summary->partial_error);
    std::cerr << "kql_to_jsonl: " << summary->rows << " rows\n";
    return 0;
  }

  absl::StatusOr<loganalytics::Cursor> start = StartCursor();
  if (!start.ok()) {
    std::cerr << "kql_to_jsonl: " << start.status().message() << "\n";
    return 2;
  }
  loganalytics::PaginatorOptions options;
  options.workspace_id = workspace_id;
  options.name = absl::GetFlag(FLAGS_query_name);
  options.base_query = kql;
  options.has_item_id = absl::GetFlag(FLAGS_item_id);
  options.settle = absl::GetFlag(FLAGS_settle);
  options.initial_page_rows = absl::GetFlag(FLAGS_page_rows);
  options.max_page_rows = std::max<int64_t>(options.initial_page_rows, options.max_page_rows);
  options.convert = convert;
  loganalytics::Paginator paginator(client, options, *start);

  uint64_t rows = 0, repeats = 0, pages = 0;
  const int64_t max_pages = absl::GetFlag(FLAGS_max_pages);
  while (max_pages == 0 || static_cast<int64_t>(pages) < max_pages) {
    absl::StatusOr<loganalytics::Page> page = paginator.NextPage();
    if (!page.ok()) return Fail(page.status());
    if (!page->complete) continue;  // truncated: the same range again, smaller
    for (const plugins::Log& log : page->logs) {
      if (absl::Status s = (*output)->Write(log, raw); !s.ok()) return Fail(s);
    }
    // The cursor moves only once the page's lines are out.
    if (absl::Status s = (*output)->Flush(); !s.ok()) return Fail(s);
    if (absl::Status s = paginator.Commit(*page); !s.ok()) return Fail(s);
    if (absl::Status s = SaveCursor(page->next_cursor); !s.ok()) return Fail(s);
    ++pages;
    rows += page->logs.size();
    repeats += page->duplicates;
    if (!page->more_available) break;  // caught up with now - settle
  }
  std::cerr << "kql_to_jsonl: " << rows << " rows in " << pages << " page(s), " << repeats
            << " overlap repeat(s) dropped; cursor " << paginator.cursor().ToJson() << "\n";
  return 0;
}
