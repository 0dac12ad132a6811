// File: plugin_main/collector_service.h
//
// The standard collector as one object: given resolved Settings and a Sink, it runs one
// QueryCollector per (workspace, query) on a Scheduler, sharing one per-identity limiter
// registry across configuration reloads. Apply() makes the running set match new
// Settings (new queries start, removed ones stop, changed workspaces restart), so a
// config reload or a console change needs no restart. Plug in any Sink: the engine, a
// JSON-lines file, a rotating file writer.
//
// Example:
//   plugin_main::CollectorService service(log, sink, store, /*threads=*/4);
//   service.Apply(settings);          // returns how many workspaces/queries failed to start
//   service.Start();
//   ...                               // SIGHUP: service.Apply(LoadSettings(...))
//   service.Stop();                   // finishes the pages in hand, abandons retry and
//                                     // limiter waits
//   sink->Close(absl::Now() + absl::Seconds(30));
//
// Problems with one workspace or query are logged and counted, never fatal to the others.
// Thread-safe: Apply, Snapshot and Report may be called while the scheduler runs.
#ifndef PLUGIN_MAIN_COLLECTOR_SERVICE_H_
#define PLUGIN_MAIN_COLLECTOR_SERVICE_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/json_log.h"
#include "loganalytics/identity_limiter.h"
#include "loganalytics/sleeper.h"
#include "plugin_main/checkpoint_store.h"
#include "plugin_main/collector.h"
#include "plugin_main/config.h"
#include "plugin_main/runtime.h"
#include "plugin_main/scheduler.h"
#include "utmstack_sink/sink.h"

namespace plugin_main {

class CollectorService {
 public:
  // `refused` and `refused_where`: see CollectorOptions (unset: a Log the sink can
  // never take fails its page).
  CollectorService(std::shared_ptr<common::JsonLogger> log, std::shared_ptr<utmstack_sink::Sink> sink,
          std::shared_ptr<CheckpointStore> store, int threads,
          std::shared_ptr<utmstack_sink::Sink> refused = nullptr,
          std::string refused_where = "")
      : log_(std::move(log)),
        sink_(std::move(sink)),
        store_(std::move(store)),
        refused_(std::move(refused)),
        refused_where_(std::move(refused_where)),
        scheduler_(SchedulerOptions{threads}) {}

  // Makes the running set of collectors match `settings`: new (workspace, query) pairs
  // start, removed ones stop, changed workspaces restart. Problems with one workspace
  // are logged and do not stop the others; returns how many failed to start.
  int Apply(const Settings& settings) {
    absl::MutexLock lock(&mu_);
    runtime_ = std::make_unique<Runtime>(settings, log_, common::SystemClock(), limiters_);
    std::set<std::string> wanted;
    int failed = 0;
    for (const WorkspaceSettings& ws : settings.workspaces) {
      const std::string fingerprint =
          absl::StrCat(ws.proto.SerializeAsString(), "|", ws.inline_secret.size(), "|",
                       absl::FormatDuration(ws.poll_interval));
      auto parts = runtime_->Workspace(ws);
      if (!parts.ok()) {
        log_->Error("workspace not started", {{"workspace", ws.proto.name()},
                                             {"error", parts.status().message()}});
        ++failed;
        continue;
      }
      for (const QuerySettings& query : ws.queries) {
        const std::string name = absl::StrCat(ws.proto.name(), "/", query.name);
        wanted.insert(name);
        auto it = collectors_.find(name);
        if (it != collectors_.end() && fingerprints_[name] == fingerprint) continue;
        auto options = runtime_->PaginatorOptionsFor(ws, query);
        if (!options.ok()) {
          log_->Error("query not started", {{"workspace", ws.proto.name()},
                                            {"query", query.name},
                                            {"error", options.status().message()}});
          ++failed;
          continue;
        }
        CollectorOptions collector_options;
        collector_options.stop = stop_;
        collector_options.refused = refused_;
        collector_options.refused_where = refused_where_;
        auto collector = std::make_shared<QueryCollector>(
            ws.proto.name(), query.name, ws.poll_interval, ws.start_at, *options, parts->client,
            sink_, store_, log_, collector_options);
        if (it != collectors_.end()) {
          scheduler_.Remove(name);
          log_->Info("query restarted with new settings",
                     {{"workspace", ws.proto.name()}, {"query", query.name}});
        } else {
          log_->Info("query started", {{"workspace", ws.proto.name()}, {"query", query.name}});
        }
        collectors_[name] = collector;
        fingerprints_[name] = fingerprint;
        scheduler_.Add(collector);
      }
    }
    for (auto it = collectors_.begin(); it != collectors_.end();) {
      if (wanted.count(it->first) == 0) {
        scheduler_.Remove(it->first);
        log_->Info("query stopped: no longer configured", {{"task", it->first}});
        fingerprints_.erase(it->first);
        it = collectors_.erase(it);
      } else {
        ++it;
      }
    }
    return failed;
  }

  void Start() { scheduler_.Start(); }
  // Waits for the pages in hand to be delivered and checkpointed. A page still waiting
  // to retry a failed request (an Azure outage: up to 15 minutes) or for a permit of its
  // identity's limiter (a 429 storm: up to 3 minutes) is abandoned at once instead, and
  // read again at the next start. Meant for shutdown: after it, failed requests are not
  // retried and busy limiters are not waited for, even if Start() is called again.
  void Stop() {
    stop_->Stop();
    scheduler_.Stop();
  }
  bool WaitUntilIdle(absl::Time deadline) { return scheduler_.WaitUntilIdle(deadline); }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return collectors_.size();
  }

  std::vector<std::pair<std::string, CollectorStats>> Snapshot() const {
    absl::MutexLock lock(&mu_);
    std::vector<std::pair<std::string, CollectorStats>> out;
    for (const auto& [name, c] : collectors_) out.emplace_back(name, c->stats());
    return out;
  }

  // Sum over every collector, and a log line per collector.
  CollectorStats Report(bool log_each) {
    CollectorStats total;
    for (const auto& [name, s] : Snapshot()) {
      total.pages += s.pages;
      total.rows += s.rows;
      total.bytes += s.bytes;
      total.errors += s.errors;
      total.truncations += s.truncations;
      total.refused += s.refused;
      total.throttles += s.throttles;
      total.retries += s.retries;
      total.duplicates += s.duplicates;
      if (log_each) {
        const double lag = s.cursor == absl::InfinitePast()
                               ? -1
                               : absl::ToDoubleSeconds(absl::Now() - s.cursor);
        log_->Info("counters", {{"task", name}, {"last_error", s.last_error}},
                   {{"pages", double(s.pages)}, {"rows", double(s.rows)},
                    {"bytes", double(s.bytes)}, {"retries", double(s.retries)},
                    {"throttles", double(s.throttles)},
                    {"truncations", double(s.truncations)},
                    {"refused", double(s.refused)}, {"lag_seconds", lag}});
      }
    }
    return total;
  }

 private:
  std::shared_ptr<common::JsonLogger> log_;
  std::shared_ptr<utmstack_sink::Sink> sink_;
  std::shared_ptr<CheckpointStore> store_;
  const std::shared_ptr<utmstack_sink::Sink> refused_;
  const std::string refused_where_;
  Scheduler scheduler_;
  mutable absl::Mutex mu_;
  // Shared by every collector and limiter: Stop() ends their retry and permit waits.
  // Declared before limiters_, which is built with it.
  const std::shared_ptr<loganalytics::StopSignal> stop_ =
      std::make_shared<loganalytics::StopSignal>();
  const std::shared_ptr<loganalytics::IdentityLimiterRegistry> limiters_ =
      StoppableLimiters(stop_);
  std::unique_ptr<Runtime> runtime_;
  std::map<std::string, std::shared_ptr<QueryCollector>> collectors_;
  std::map<std::string, std::string> fingerprints_;
};

}  // namespace plugin_main

#endif  // PLUGIN_MAIN_COLLECTOR_SERVICE_H_
