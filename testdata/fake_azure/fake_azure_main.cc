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
//
// Generated workload (for fault and soak runs of the connector): with --workload_rate
// and/or --workload_backlog the workspace model gains records over time, in ingestion
// batches that share an ingestion time (as Azure's do), some with TimeGenerated hours or
// days before their ingestion (late arrivals) or ahead of it, some queryable only a while
// after their ingestion (delayed visibility). Records are drawn from --workload_seed;
// each one is appended to --expected_out ("item_id<TAB>table<TAB>ingestion_ns<TAB>
// visible_ns<TAB>generated_ns", Unix nanoseconds) so a checker knows every record the
// workspace held, and "<expected_out>.done" is written once --workload_records are out.
//
//   fake_azure_main --ready_file=... --ca_out=... --client_secret_file=secret
//       --workload_rate=200 --workload_records=6000 --workload_backlog=1000
//       --expected_out=/tmp/run/expected.tsv --throttle_rate=0.2 --endless_rate=0.02
//
// Further faults on top of the model's (--throttle_rate and the others): 429 storms
// (--storm_on/--storm_off), corrupt 200 bodies (--corrupt_rate: garbage, an answer cut
// short, an HTML page, the wrong JSON shape) and endless chunked bodies
// (--endless_rate). Tokens: --token_valid_seconds makes tokens stop working before the
// expires_in they advertise (expiry mid-run), --reread_secret_file accepts only the
// secret the file holds at the time of each token request (rotation).
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "testdata/azure/recorded_bodies.h"
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
ABSL_FLAG(int, retry_after_seconds, 1, "Workspace model: Retry-After of random 429s.");

ABSL_FLAG(double, workload_rate, 0,
          "Generated workload: records per second arriving while the server runs.");
ABSL_FLAG(int64_t, workload_records, 0,
          "Generated workload: records in all (backlog included); 0 = no end.");
ABSL_FLAG(int64_t, workload_backlog, 0,
          "Generated workload: records already ingested when the server starts.");
ABSL_FLAG(absl::Duration, workload_backlog_span, absl::Minutes(10),
          "Generated workload: the backlog's ingestion times spread over this span "
          "before the start.");
ABSL_FLAG(uint64_t, workload_seed, 1, "Generated workload: seed of every drawn value.");
ABSL_FLAG(std::string, workload_tables, "SigninLogs,AuditLogs,AzureActivity,SecurityAlert",
          "Generated workload: tables the records go to (comma-separated).");
ABSL_FLAG(double, late_share, 0.2,
          "Generated workload: share of records whose TimeGenerated is 1 h to --late_max "
          "before their ingestion.");
ABSL_FLAG(absl::Duration, late_max, absl::Hours(40), "Generated workload: see --late_share.");
ABSL_FLAG(double, future_share, 0.02,
          "Generated workload: share of records whose TimeGenerated is up to 2 h after "
          "their ingestion (clock skew).");
ABSL_FLAG(double, delayed_share, 0.3,
          "Generated workload: share of records queryable only up to "
          "--visibility_delay_max after their ingestion time.");
ABSL_FLAG(absl::Duration, visibility_delay_max, absl::Seconds(20),
          "Generated workload: see --delayed_share.");
ABSL_FLAG(int, batch_max, 20,
          "Generated workload: records per ingestion batch (one ingestion time) at most.");
ABSL_FLAG(absl::Duration, retention, absl::ZeroDuration(),
          "Generated workload: forget records ingested longer ago than this (0 = keep "
          "all), so long runs stay bounded in memory.");
ABSL_FLAG(std::string, expected_out, "",
          "Generated workload: append every generated record here (see the top of "
          "fake_azure_main.cc).");

ABSL_FLAG(double, corrupt_rate, 0,
          "Share of queries answered 200 with a corrupt body (garbage, cut short, HTML, "
          "wrong JSON shape).");
ABSL_FLAG(double, endless_rate, 0,
          "Share of queries answered 200 with a chunked body that never ends.");
ABSL_FLAG(absl::Duration, storm_on, absl::ZeroDuration(),
          "429 storms: every query is throttled for this long ...");
ABSL_FLAG(absl::Duration, storm_off, absl::Seconds(10), "... then none for this long.");
ABSL_FLAG(int, token_valid_seconds, 0,
          "When > 0, issued tokens stop working after this many seconds although they "
          "advertise --token_lifetime_seconds.");
ABSL_FLAG(bool, reread_secret_file, false,
          "Read --client_secret_file at each token request and accept only what it holds "
          "then (secret rotation).");

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

int64_t UnixNanos(absl::Time t) { return absl::ToUnixNanos(t); }

// Log Analytics keeps times in 100 ns ticks.
absl::Time Tick(absl::Time t) {
  return absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), absl::Nanoseconds(100));
}

// Records arriving in the workspace model over time (see the top of this file).
class Workload {
 public:
  struct Options {
    double rate = 0;
    int64_t records = 0;
    int64_t backlog = 0;
    absl::Duration backlog_span = absl::Minutes(10);
    uint64_t seed = 1;
    std::vector<std::string> tables;
    double late_share = 0.2;
    absl::Duration late_max = absl::Hours(40);
    double future_share = 0.02;
    double delayed_share = 0.3;
    absl::Duration visibility_delay_max = absl::Seconds(20);
    int batch_max = 20;
    absl::Duration retention = absl::ZeroDuration();
    std::string expected_out;
  };

  Workload(Options options, std::string workspace_id, workspace_model::WorkspaceModel* model)
      : options_(std::move(options)),
        workspace_id_(std::move(workspace_id)),
        model_(model),
        random_(options_.seed) {
    options_.batch_max = std::max(1, options_.batch_max);
  }
  ~Workload() { Stop(); }

  absl::Status Start() {
    if (!options_.expected_out.empty()) {
      expected_ = std::fopen(options_.expected_out.c_str(), "w");
      if (expected_ == nullptr) {
        return absl::UnavailableError(absl::StrCat("cannot write --expected_out ",
                                                   options_.expected_out));
      }
    }
    start_ = absl::Now();
    model_->AddWorkspace(workspace_id_);
    // The backlog: ingested before the start, spread over backlog_span.
    const int64_t backlog = Limit(options_.backlog);
    int64_t made = 0;
    while (made < backlog) {
      const int64_t n = std::min<int64_t>(Draw(1, options_.batch_max), backlog - made);
      const absl::Time at =
          start_ - options_.backlog_span + options_.backlog_span * (double(made) / backlog);
      AddBatch(Tick(at), n);
      made += n;
    }
    std::fflush(expected_);
    thread_ = std::thread([this] { Run(); });
    return absl::OkStatus();
  }

  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    if (expected_ != nullptr) {
      std::fclose(expected_);
      expected_ = nullptr;
    }
  }

  int64_t generated() const { return generated_.load(); }

 private:
  int64_t Limit(int64_t n) const {
    return options_.records > 0 ? std::min(n, options_.records - generated_.load()) : n;
  }
  int64_t Draw(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(random_);
  }
  double Uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); }
  absl::Duration Between(absl::Duration lo, absl::Duration hi) {
    return lo + (hi - lo) * Uniform();
  }

  std::string ItemId() {
    const uint64_t a = random_(), b = random_();
    return absl::StrFormat("%08x-%04x-4%03x-%04x-%012x", a >> 32, (a >> 16) & 0xffff,
                           a & 0xfff, 0x8000 | (b >> 48 & 0x3fff), b & 0xffffffffffffULL);
  }

  workspace_model::Record Make(absl::Time ingestion) {
    using workspace_model::Column;
    workspace_model::Record r;
    const int64_t sequence = generated_.fetch_add(1);
    r.table = options_.tables[Draw(0, options_.tables.size() - 1)];
    r.item_id = ItemId();
    r.ingestion_time = ingestion;
    const double kind = Uniform();
    if (kind < options_.late_share) {
      r.time_generated = Tick(ingestion - Between(absl::Hours(1), options_.late_max));
    } else if (kind < options_.late_share + options_.future_share) {
      r.time_generated = Tick(ingestion + Between(absl::Minutes(1), absl::Hours(2)));
    } else {
      r.time_generated = Tick(ingestion - Between(absl::ZeroDuration(), absl::Seconds(30)));
    }
    r.visible_at = ingestion;
    if (Uniform() < options_.delayed_share) {
      r.visible_at = Tick(ingestion + Between(absl::ZeroDuration(), options_.visibility_delay_max));
    }
    static const char* const kOperations[] = {"Sign-in activity", "Update user",
                                              "Add member to group", "Delete resource",
                                              "List storage account keys"};
    const int64_t user = Draw(0, 499);
    r.columns.push_back(Column::String("OperationName", kOperations[Draw(0, 4)]));
    r.columns.push_back(
        Column::String("UserPrincipalName", absl::StrFormat("user%03d@contoso.com", user)));
    r.columns.push_back(Column::String("IPAddress", absl::StrFormat(
                                                        "198.51.100.%d", int(Draw(1, 254)))));
    r.columns.push_back(Column::String("ResultDescription", Draw(0, 3) == 0 ? "" : "ok"));
    r.columns.push_back(Column::Long("Sequence", sequence));
    r.columns.push_back(Column::Dynamic(
        "Details", absl::StrFormat("{\"sequence\":%d,\"user\":%d,\"tags\":[\"e2e\",\"%s\"],"
                                   "\"nested\":{\"late\":%s}}",
                                   sequence, user, r.table,
                                   kind < options_.late_share ? "true" : "false")));
    return r;
  }

  void AddBatch(absl::Time ingestion, int64_t n) {
    std::vector<workspace_model::Record> batch;
    batch.reserve(n);
    for (int64_t i = 0; i < n; ++i) batch.push_back(Make(ingestion));
    if (expected_ != nullptr) {
      for (const auto& r : batch) {
        std::fprintf(expected_, "%s\t%s\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\n",
                     r.item_id.c_str(), r.table.c_str(), UnixNanos(r.ingestion_time),
                     UnixNanos(r.visible_at), UnixNanos(r.time_generated));
      }
    }
    model_->AddRecords(workspace_id_, std::move(batch));
  }

  void Run() {
    int64_t live = 0;
    absl::Time next_retention = absl::Now() + absl::Seconds(30);
    bool done_written = false;
    while (!stop_.load()) {
      const absl::Time now = absl::Now();
      const int64_t due = static_cast<int64_t>(options_.rate * absl::ToDoubleSeconds(now - start_));
      while (live < due && Limit(1) > 0) {
        const int64_t n = std::min<int64_t>({Draw(1, options_.batch_max), due - live, Limit(due - live)});
        AddBatch(Tick(absl::Now()), n);
        live += n;
      }
      if (expected_ != nullptr) std::fflush(expected_);
      if (!done_written && options_.records > 0 && generated_.load() >= options_.records) {
        done_written = true;
        if (!options_.expected_out.empty()) {
          (void)WriteAtomically(options_.expected_out + ".done",
                                absl::StrCat(generated_.load(), "\n"));
        }
      }
      if (options_.retention > absl::ZeroDuration() && now >= next_retention) {
        next_retention = now + absl::Seconds(30);
        model_->DropIngestedBefore(workspace_id_, now - options_.retention);
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  Options options_;
  const std::string workspace_id_;
  workspace_model::WorkspaceModel* const model_;
  std::mt19937_64 random_;  // only the constructor's thread, then Run()'s, use it
  absl::Time start_;
  std::atomic<int64_t> generated_{0};
  std::atomic<bool> stop_{false};
  FILE* expected_ = nullptr;
  std::thread thread_;
};

// Faults the workspace model does not make: 429 storms, corrupt and endless bodies.
// Each body fault comes once in every block of 1/rate queries, at a random place in the
// block: the share is the rate, and even a short run (a few dozen queries) sees every
// kind of fault it asked for, whatever the seed.
class BodyFaults {
 public:
  struct Options {
    double corrupt = 0;
    double endless = 0;
    absl::Duration storm_on = absl::ZeroDuration();
    absl::Duration storm_off = absl::Seconds(10);
    uint64_t seed = 1;
  };
  struct Counts {
    std::atomic<int64_t> storm{0}, corrupt{0}, endless{0};
  };

  // Once per block of round(1 / rate) queries.
  class OncePerBlock {
   public:
    explicit OncePerBlock(double rate)
        : block_(rate > 0 ? std::max<int64_t>(1, std::llround(1 / rate)) : 0) {}
    bool Next(std::mt19937_64& random) {
      if (block_ == 0) return false;
      if (index_ % block_ == 0) {
        hit_ = index_ + std::uniform_int_distribution<int64_t>(0, block_ - 1)(random);
      }
      return index_++ == hit_;
    }

   private:
    int64_t block_;
    int64_t index_ = 0;
    int64_t hit_ = -1;
  };

  explicit BodyFaults(Options options)
      : options_(options),
        random_(options.seed * 7919 + 17),
        endless_(options.endless),
        corrupt_(options.corrupt),
        start_(absl::Now()) {}

  bool any() const {
    return options_.corrupt > 0 || options_.endless > 0 ||
           options_.storm_on > absl::ZeroDuration();
  }
  const Counts& counts() const { return counts_; }

  fake_azure::QueryHandler Wrap(fake_azure::QueryHandler inner) {
    return [this, inner = std::move(inner)](const fake_azure::QueryRequest& q) {
      if (InStorm()) {
        ++counts_.storm;
        return fake_azure::QueryReply{
            429, {{"Retry-After", "1"}}, std::string(azure_testdata::kQueryError429), {}};
      }
      bool endless;
      bool corrupt;
      uint64_t variant;
      {
        std::lock_guard<std::mutex> lock(mu_);
        endless = endless_.Next(random_);
        corrupt = corrupt_.Next(random_);
        variant = random_();
      }
      if (endless) {
        ++counts_.endless;
        return Endless();
      }
      if (corrupt) {
        ++counts_.corrupt;
        return Corrupt(variant, inner(q));
      }
      return inner(q);
    };
  }

 private:
  bool InStorm() const {
    if (options_.storm_on <= absl::ZeroDuration()) return false;
    const absl::Duration period = options_.storm_on + options_.storm_off;
    return (absl::Now() - start_) % period < options_.storm_on;
  }

  // A 200 answer that starts like a real one and never ends: rows until the client
  // hangs up (or 16 GiB, so a client without a cap cannot keep the fake busy forever).
  static fake_azure::QueryReply Endless() {
    fake_azure::QueryReply reply;
    reply.status = 200;
    auto row = std::make_shared<std::string>();
    for (int i = 0; row->size() < (64 << 10); ++i) {
      absl::StrAppend(row.get(),
                      "[\"00000000-0000-0000-0000-000000000000\",\"2024-01-01T00:00:00Z\","
                      "\"endless\",\"2024-01-01T00:00:00Z\",\"",
                      absl::StrFormat("%08d", i), "\"],");
    }
    reply.stream = [row](size_t offset, httplib::DataSink& sink) {
      if (offset == 0) {
        static constexpr absl::string_view kHead =
            "{\"tables\":[{\"name\":\"PrimaryResult\",\"columns\":["
            "{\"name\":\"TenantId\",\"type\":\"string\"},"
            "{\"name\":\"TimeGenerated\",\"type\":\"datetime\"},"
            "{\"name\":\"Type\",\"type\":\"string\"},"
            "{\"name\":\"_IngestionTime\",\"type\":\"datetime\"},"
            "{\"name\":\"_ItemId\",\"type\":\"string\"}],\"rows\":[";
        return sink.write(kHead.data(), kHead.size());
      }
      if (offset > (size_t{16} << 30)) return false;
      return sink.write(row->data(), row->size());
    };
    return reply;
  }

  // A 200 answer whose body is not a usable answer.
  static fake_azure::QueryReply Corrupt(uint64_t variant, fake_azure::QueryReply real) {
    fake_azure::QueryReply reply;
    reply.status = 200;
    switch (variant % 4) {
      case 0: {  // binary garbage
        std::mt19937_64 bytes(variant);
        reply.body.resize(512 + variant % 4096);
        for (char& c : reply.body) c = static_cast<char>(bytes());
        break;
      }
      case 1:  // a real answer cut short (no PartialError: the connection just ended)
        reply.body = real.status == 200 && real.body.size() > 2
                         ? real.body.substr(0, 1 + (variant >> 8) % (real.body.size() - 1))
                         : "{\"tables\":[{\"name\":\"PrimaryResult\",\"columns\":[";
        break;
      case 2:  // a proxy's error page with status 200
        reply.headers = {{"Content-Type", "text/html"}};
        reply.body = "<html><body><h1>502 Bad Gateway</h1>upstream reset</body></html>";
        break;
      default:  // JSON of the wrong shape: rows shorter than the columns
        reply.body =
            "{\"tables\":[{\"name\":\"PrimaryResult\",\"columns\":[{\"name\":"
            "\"TimeGenerated\",\"type\":\"datetime\"},{\"name\":\"_ItemId\",\"type\":"
            "\"string\"}],\"rows\":[[\"2024-01-01T00:00:00Z\"],{\"not\":\"a row\"}]}]}";
    }
    return reply;
  }

  const Options options_;
  std::mutex mu_;
  std::mt19937_64 random_;
  OncePerBlock endless_;  // guarded by mu_, as random_
  OncePerBlock corrupt_;
  const absl::Time start_;
  Counts counts_;
};

// The token endpoint for rotation (--reread_secret_file) and early expiry
// (--token_valid_seconds): requests with a client secret and the right tenant, client
// and scope are judged here; anything else falls through to the built-in checks.
fake_azure::TokenHandler RotatingTokens(fake_azure::FakeAzureServer* server,
                                        std::string secret_file, std::string fixed_secret,
                                        absl::Duration valid_for,
                                        absl::Duration advertised) {
  return [=](const fake_azure::TokenRequest& request)
             -> std::optional<fake_azure::TokenReply> {
    const auto& options = server->options();
    std::optional<std::string> secret = request.Form("client_secret");
    std::optional<std::string> scope = request.Form("scope");
    if (!secret || !scope || request.tenant != options.tenant_id ||
        request.Form("client_id") != options.client_id ||
        request.Form("grant_type") != "client_credentials" ||
        absl::StrContains(*scope, ' ') || !absl::EndsWith(*scope, "/.default") ||
        request.Form("client_assertion") || request.Form("client_assertion_type")) {
      return std::nullopt;
    }
    std::string expected = fixed_secret;
    if (!secret_file.empty()) {
      absl::StatusOr<std::string> current = ReadFile(secret_file, "client secret");
      expected = current.ok() ? std::string(absl::StripTrailingAsciiWhitespace(*current)) : "";
    }
    if (expected.empty() || *secret != expected) {
      return fake_azure::TokenReply{401, {}, std::string(azure_testdata::kTokenError7000215)};
    }
    const std::string token = server->IssueToken(*scope, valid_for);
    const int64_t lifetime = absl::ToInt64Seconds(advertised);
    return fake_azure::TokenReply{
        200,
        {},
        absl::StrCat("{\"token_type\":\"Bearer\",\"expires_in\":", lifetime,
                     ",\"ext_expires_in\":", lifetime, ",\"access_token\":\"", token, "\"}")};
  };
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
  const bool workload = absl::GetFlag(FLAGS_workload_rate) > 0 ||
                        absl::GetFlag(FLAGS_workload_backlog) > 0;
  BodyFaults body_faults({absl::GetFlag(FLAGS_corrupt_rate), absl::GetFlag(FLAGS_endless_rate),
                          absl::GetFlag(FLAGS_storm_on), absl::GetFlag(FLAGS_storm_off),
                          absl::GetFlag(FLAGS_fault_seed)});
  std::unique_ptr<Workload> generator;
  if (!absl::GetFlag(FLAGS_workspace_records).empty() || workload) {
    if (!absl::GetFlag(FLAGS_workspace_records).empty()) {
      absl::StatusOr<size_t> loaded = workspace_model::LoadRecordsFile(
          absl::GetFlag(FLAGS_workspace_records), options.workspace_id, absl::Now(), &model);
      if (!loaded.ok()) return Fail(loaded.status());
      std::fprintf(stdout, "serving %zu recorded records from %s\n", *loaded,
                   absl::GetFlag(FLAGS_workspace_records).c_str());
    }
    workspace_model::RandomFaults faults;
    faults.throttle = absl::GetFlag(FLAGS_throttle_rate);
    faults.server_error = absl::GetFlag(FLAGS_server_error_rate);
    faults.gateway_timeout = absl::GetFlag(FLAGS_gateway_timeout_rate);
    faults.truncate = absl::GetFlag(FLAGS_truncate_rate);
    faults.retry_after_seconds = absl::GetFlag(FLAGS_retry_after_seconds);
    faults.seed = absl::GetFlag(FLAGS_fault_seed);
    model.SetRandomFaults(faults);
    model.SetRowCap(absl::GetFlag(FLAGS_row_cap));
    fake_azure::QueryHandler handler = workspace_model::MakeQueryHandler(&model);
    if (body_faults.any()) handler = body_faults.Wrap(std::move(handler));
    server.SetQueryHandler(std::move(handler));
    if (workload) {
      Workload::Options w;
      w.rate = absl::GetFlag(FLAGS_workload_rate);
      w.records = absl::GetFlag(FLAGS_workload_records);
      w.backlog = absl::GetFlag(FLAGS_workload_backlog);
      w.backlog_span = absl::GetFlag(FLAGS_workload_backlog_span);
      w.seed = absl::GetFlag(FLAGS_workload_seed);
      w.tables = absl::StrSplit(absl::GetFlag(FLAGS_workload_tables), ',', absl::SkipEmpty());
      if (w.tables.empty()) {
        return Fail(absl::InvalidArgumentError("--workload_tables names no table"));
      }
      w.late_share = absl::GetFlag(FLAGS_late_share);
      w.late_max = absl::GetFlag(FLAGS_late_max);
      w.future_share = absl::GetFlag(FLAGS_future_share);
      w.delayed_share = absl::GetFlag(FLAGS_delayed_share);
      w.visibility_delay_max = absl::GetFlag(FLAGS_visibility_delay_max);
      w.batch_max = absl::GetFlag(FLAGS_batch_max);
      w.retention = absl::GetFlag(FLAGS_retention);
      w.expected_out = absl::GetFlag(FLAGS_expected_out);
      generator = std::make_unique<Workload>(std::move(w), options.workspace_id, &model);
    }
  }
  if (absl::GetFlag(FLAGS_reread_secret_file) || absl::GetFlag(FLAGS_token_valid_seconds) > 0) {
    const absl::Duration advertised = options.token_lifetime;
    const absl::Duration valid_for = absl::GetFlag(FLAGS_token_valid_seconds) > 0
                                         ? absl::Seconds(absl::GetFlag(FLAGS_token_valid_seconds))
                                         : advertised;
    server.SetTokenHandler(RotatingTokens(
        &server,
        absl::GetFlag(FLAGS_reread_secret_file) ? absl::GetFlag(FLAGS_client_secret_file) : "",
        options.client_secret, valid_for, advertised));
  }
  if (absl::Status started = server.Start(); !started.ok()) return Fail(started);
  if (generator != nullptr) {
    if (absl::Status s = generator->Start(); !s.ok()) return Fail(s);
  }
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
  if (generator != nullptr) {
    generator->Stop();
    std::fprintf(stdout, "generated %lld records\n",
                 static_cast<long long>(generator->generated()));
  }
  const workspace_model::ModelStats stats = model.stats();
  std::fprintf(stdout,
               "faults: %lld throttled, %lld server errors, %lld gateway timeouts, %lld "
               "truncated, %lld row cap, %lld storm, %lld corrupt, %lld endless\n",
               static_cast<long long>(stats.throttled),
               static_cast<long long>(stats.server_errors),
               static_cast<long long>(stats.gateway_timeouts),
               static_cast<long long>(stats.truncated),
               static_cast<long long>(stats.row_cap_hits),
               static_cast<long long>(body_faults.counts().storm.load()),
               static_cast<long long>(body_faults.counts().corrupt.load()),
               static_cast<long long>(body_faults.counts().endless.load()));
  return 0;
}
