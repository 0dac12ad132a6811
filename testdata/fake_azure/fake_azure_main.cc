// fake_azure_main: serves FakeAzureServer (Entra ID token endpoint + Log Analytics
// Query API over HTTPS on 127.0.0.1) until SIGTERM or SIGINT, for the offline demo.
//
//   fake_azure_main --ready_file=/tmp/demo/azure_url --ca_out=/tmp/demo/ca.pem \
//       --client_secret_file=/tmp/demo/secret --answer=testdata/azure/query_answer.json
//
// Once listening it writes the CA certificate to --ca_out and then
// "https://127.0.0.1:PORT\n" to --ready_file (each via a temporary file and rename, so
// a reader never sees half a file): wait for the ready file, then point the connector's
// authority host and query endpoint at that URL and its CA file at --ca_out.
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "testdata/fake_azure/fake_azure_server.h"
#include "testdata/workspace_model/fake_azure_handler.h"
#include "testdata/workspace_model/records_file.h"
#include "testdata/workspace_model/workspace_model.h"

ABSL_FLAG(int, port, 0, "Port on 127.0.0.1; 0 picks a free one.");
ABSL_FLAG(std::string, ready_file, "",
          "Written with \"https://127.0.0.1:PORT\\n\" once the server listens.");
ABSL_FLAG(std::string, ca_out, "", "Where to write the CA certificate (PEM) to trust.");
ABSL_FLAG(std::string, tenant_id, fake_azure::FakeAzureServer::Options().tenant_id,
          "Tenant id the token endpoint accepts.");
ABSL_FLAG(std::string, client_id, fake_azure::FakeAzureServer::Options().client_id,
          "Client (application) id the token endpoint accepts.");
ABSL_FLAG(std::string, client_secret_file, "",
          "File holding the client secret the token endpoint expects (trailing "
          "whitespace ignored); empty keeps the built-in test secret.");
ABSL_FLAG(std::string, workspace_id, fake_azure::FakeAzureServer::Options().workspace_id,
          "Workspace id the Query API serves.");
ABSL_FLAG(std::string, answer, "",
          "File whose content answers every query; empty serves the recorded "
          "testdata/azure/query_answer.json.");
ABSL_FLAG(int, token_lifetime_seconds, 3599, "Lifetime of issued tokens.");
ABSL_FLAG(std::string, workspace_records, "",
          "A recorded workspace (JSON lines, see testdata/workspace_model/records_file.h): "
          "queries are answered from it by the workspace model (the KQL subset of "
          "testdata/workspace_model/README.md) instead of from --answer.");
ABSL_FLAG(double, throttle_rate, 0, "Workspace model: share of queries answered 429.");
ABSL_FLAG(double, server_error_rate, 0, "Workspace model: share answered 500/503.");
ABSL_FLAG(double, gateway_timeout_rate, 0, "Workspace model: share answered 504.");
ABSL_FLAG(double, truncate_rate, 0, "Workspace model: share answered with a PartialError.");
ABSL_FLAG(int64_t, row_cap, 500000, "Workspace model: rows per answer before a PartialError.");
ABSL_FLAG(uint64_t, fault_seed, 1, "Workspace model: seed of the random faults.");

namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read the ", what, " file ", path,
                                            "; check the path and its permissions"));
  }
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Writes `content` to `path` through a temporary file and rename(2).
absl::Status WriteAtomically(const std::string& path, absl::string_view content) {
  std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) {
      return absl::InternalError(absl::StrCat("cannot write ", tmp,
                                              "; check that the directory exists"));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "fake_azure_main: %s\n", std::string(status.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);

  // Block the stop signals before any thread starts, so that only sigwait sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  fake_azure::FakeAzureServer::Options options;
  options.port = absl::GetFlag(FLAGS_port);
  options.tenant_id = absl::GetFlag(FLAGS_tenant_id);
  options.client_id = absl::GetFlag(FLAGS_client_id);
  options.workspace_id = absl::GetFlag(FLAGS_workspace_id);
  options.token_lifetime = absl::Seconds(absl::GetFlag(FLAGS_token_lifetime_seconds));
  if (!absl::GetFlag(FLAGS_client_secret_file).empty()) {
    absl::StatusOr<std::string> secret =
        ReadFile(absl::GetFlag(FLAGS_client_secret_file), "client secret");
    if (!secret.ok()) return Fail(secret.status());
    options.client_secret = std::string(absl::StripTrailingAsciiWhitespace(*secret));
    if (options.client_secret.empty()) {
      return Fail(absl::InvalidArgumentError(
          "the client secret file is empty; put the secret the fake should expect in it"));
    }
  }
  if (!absl::GetFlag(FLAGS_answer).empty()) {
    absl::StatusOr<std::string> answer = ReadFile(absl::GetFlag(FLAGS_answer), "answer");
    if (!answer.ok()) return Fail(answer.status());
    options.answer_body = *std::move(answer);
  }

  fake_azure::FakeAzureServer server(options);
  workspace_model::WorkspaceModel model;
  if (!absl::GetFlag(FLAGS_workspace_records).empty()) {
    absl::StatusOr<size_t> loaded = workspace_model::LoadRecordsFile(
        absl::GetFlag(FLAGS_workspace_records), options.workspace_id, absl::Now(), &model);
    if (!loaded.ok()) return Fail(loaded.status());
    workspace_model::RandomFaults faults;
    faults.throttle = absl::GetFlag(FLAGS_throttle_rate);
    faults.server_error = absl::GetFlag(FLAGS_server_error_rate);
    faults.gateway_timeout = absl::GetFlag(FLAGS_gateway_timeout_rate);
    faults.truncate = absl::GetFlag(FLAGS_truncate_rate);
    faults.seed = absl::GetFlag(FLAGS_fault_seed);
    model.SetRandomFaults(faults);
    model.SetRowCap(absl::GetFlag(FLAGS_row_cap));
    server.SetQueryHandler(workspace_model::MakeQueryHandler(&model));
    std::fprintf(stdout, "serving %zu recorded records from %s\n", *loaded,
                 absl::GetFlag(FLAGS_workspace_records).c_str());
  }
  if (absl::Status started = server.Start(); !started.ok()) return Fail(started);
  if (!absl::GetFlag(FLAGS_ca_out).empty()) {
    absl::Status written = WriteAtomically(absl::GetFlag(FLAGS_ca_out), server.ca_pem());
    if (!written.ok()) return Fail(written);
  }
  if (!absl::GetFlag(FLAGS_ready_file).empty()) {
    absl::Status written =
        WriteAtomically(absl::GetFlag(FLAGS_ready_file), server.base_url() + "\n");
    if (!written.ok()) return Fail(written);
  }
  std::fprintf(stdout, "fake Azure listening on %s (tenant %s, workspace %s)\n",
               server.base_url().c_str(), options.tenant_id.c_str(),
               options.workspace_id.c_str());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::fprintf(stdout, "fake Azure stopping on signal %d after %zu requests\n",
               signal_number, server.requests().size());
  server.Stop();
  return 0;
}
