// File: plugin_main/engine_health_log.h
//
// Turns the engine sink's counters into log lines an operator can act on. EngineSink
// reconnects and resends by itself, without a word: an engine that restarts, crashes
// or is not there yet would otherwise show in the log only once a page's deadline
// passed (minutes later), or never. Observe() is called about once a second with the
// sink's stats and writes
//
//   one warning when the connection is lost (the stream ended, the socket vanished or
//   was replaced, or the engine is not there at start), with the sink's error;
//   one info line when the engine took Logs again, with how long it was away and how
//   many Logs were resent.
//
// Nothing in between, however long the engine stays away, and nothing while healthy.
//
// Example:
//   plugin_main::EngineHealthLog health(log, settings.engine_socket);
//   while (running) {
//     ...wait a second...
//     health.Observe(engine_sink->stats());
//   }
//
// Not thread-safe: call Observe from one thread.
#ifndef PLUGIN_MAIN_ENGINE_HEALTH_LOG_H_
#define PLUGIN_MAIN_ENGINE_HEALTH_LOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/json_log.h"
#include "utmstack_sink/engine_sink.h"

namespace plugin_main {

class EngineHealthLog {
 public:
  EngineHealthLog(std::shared_ptr<common::JsonLogger> log, std::string socket)
      : log_(std::move(log)), socket_(std::move(socket)) {}

  // Compares `stats` with the previous call's and logs a loss or a recovery.
  void Observe(const utmstack_sink::EngineSinkStats& stats, absl::Time now = absl::Now()) {
    const std::string error =
        stats.last_error.ok() ? std::string() : std::string(stats.last_error.message());
    const bool failed = (!error.empty() && error != error_seen_) ||
                        stats.reconnects > reconnects_seen_;
    if (!down_ && failed) {
      down_ = true;
      down_since_ = now;
      acked_at_loss_ = stats.acked;
      resent_at_loss_ = stats.resent;
      log_->Warning("engine connection lost; unacknowledged logs are kept and resent when "
                    "it is back",
                    {{"socket", socket_}, {"error", error}},
                    {{"pending_logs", static_cast<double>(stats.pending_logs)}});
    } else if (down_ && stats.acked > acked_at_loss_) {
      down_ = false;
      log_->Info("engine connection restored",
                 {{"socket", socket_}},
                 {{"down_seconds", absl::ToDoubleSeconds(now - down_since_)},
                  {"resent_logs", static_cast<double>(stats.resent - resent_at_loss_)}});
    }
    error_seen_ = error;
    reconnects_seen_ = stats.reconnects;
  }

  // True between a loss and the recovery after it.
  bool down() const { return down_; }

 private:
  std::shared_ptr<common::JsonLogger> log_;
  const std::string socket_;
  bool down_ = false;
  absl::Time down_since_;
  uint64_t acked_at_loss_ = 0;
  uint64_t resent_at_loss_ = 0;
  std::string error_seen_;
  uint64_t reconnects_seen_ = 0;
};

}  // namespace plugin_main

#endif  // PLUGIN_MAIN_ENGINE_HEALTH_LOG_H_
