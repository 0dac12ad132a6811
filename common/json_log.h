// File: common/json_log.h
//
// Structured log lines: one JSON object per line (time, level, workspace, query,
// message, and any extra fields), written to a FILE* (stderr by default). Lines below
// the configured level are dropped. Whole lines are written under a mutex, so lines
// from several threads never interleave.
//
// Example:
//   common::JsonLogger log(stderr, common::LogLevel::kInfo);
//   log.Info("page delivered", {{"workspace", "prod"}, {"query", "SigninLogs"}},
//            {{"rows", 5000}, {"lag_seconds", 130}});
//   // {"time":"2026-11-27T07:00:00.123Z","level":"info","workspace":"prod",
//   //  "query":"SigninLogs","message":"page delivered","rows":5000,"lag_seconds":130}
//
// Callers must not pass secrets: the logger cannot know which strings are secret.
// Thread-safe.
//
// Status codes: none; a line that cannot be written is dropped (logging never fails
// the caller).
#ifndef COMMON_JSON_LOG_H_
#define COMMON_JSON_LOG_H_

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/json_string.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace common {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// "debug", "info", "warning", "error" -> level; anything else -> kInfo.
inline LogLevel ParseLogLevel(absl::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "warning") return LogLevel::kWarning;
  if (name == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

class JsonLogger {
 public:
  using StringFields = std::initializer_list<std::pair<absl::string_view, absl::string_view>>;
  using NumberFields = std::initializer_list<std::pair<absl::string_view, double>>;

  explicit JsonLogger(FILE* out = stderr, LogLevel level = LogLevel::kInfo)
      : out_(out), level_(level) {}

  void set_level(LogLevel level) {
    absl::MutexLock lock(&mu_);
    level_ = level;
  }
  bool Enabled(LogLevel level) const {
    absl::MutexLock lock(&mu_);
    return level >= level_;
  }

  void Log(LogLevel level, absl::string_view message, StringFields strings = {},
           NumberFields numbers = {}) {
    if (!Enabled(level)) return;
    static constexpr const char* kNames[] = {"debug", "info", "warning", "error"};
    std::string line = "{\"time\":";
    AppendJsonString(&line, absl::FormatTime("%Y-%m-%d%ET%H:%M:%E3SZ", absl::Now(),
                                              absl::UTCTimeZone()));
    absl::StrAppend(&line, ",\"level\":\"", kNames[static_cast<int>(level)], "\"");
    for (const auto& [key, value] : strings) {
      line.push_back(',');
      AppendJsonString(&line, key);
      line.push_back(':');
      AppendJsonString(&line, value);
    }
    line += ",\"message\":";
    AppendJsonString(&line, message);
    for (const auto& [key, value] : numbers) {
      line.push_back(',');
      AppendJsonString(&line, key);
      if (value == static_cast<double>(static_cast<int64_t>(value))) {
        absl::StrAppend(&line, ":", static_cast<int64_t>(value));
      } else {
        absl::StrAppend(&line, ":", value);
      }
    }
    line += "}\n";
    absl::MutexLock lock(&mu_);
    std::fwrite(line.data(), 1, line.size(), out_);
    std::fflush(out_);
  }

  void Debug(absl::string_view m, StringFields s = {}, NumberFields n = {}) {
    Log(LogLevel::kDebug, m, s, n);
  }
  void Info(absl::string_view m, StringFields s = {}, NumberFields n = {}) {
    Log(LogLevel::kInfo, m, s, n);
  }
  void Warning(absl::string_view m, StringFields s = {}, NumberFields n = {}) {
    Log(LogLevel::kWarning, m, s, n);
  }
  void Error(absl::string_view m, StringFields s = {}, NumberFields n = {}) {
    Log(LogLevel::kError, m, s, n);
  }

 private:
  mutable absl::Mutex mu_;
  FILE* out_;
  LogLevel level_;
};

}  // namespace common

#endif  // COMMON_JSON_LOG_H_
