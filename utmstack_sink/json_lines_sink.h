// File: utmstack_sink/json_lines_sink.h
//
// JsonLinesSink writes each plugins::Log as one line of JSON (the protobuf JSON
// mapping: `{"id":"...","dataType":"azure","@timestamp":"...","raw":"{...}"}`, empty
// fields left out) to a file or to a std::ostream. It is the sink for dry runs
// (`convert`, `run --dry_run`), for replay files, and for tests that want to look at
// what would have reached the engine. A Log counts as taken once Flush() returned OK:
// for a file that means fflush() and fsync() succeeded.
//
// Example:
//   absl::StatusOr<std::unique_ptr<utmstack_sink::JsonLinesSink>> sink =
//       utmstack_sink::JsonLinesSink::Open("/tmp/events.jsonl");
//   if (!sink.ok()) return sink.status();
//   for (plugins::Log& log : logs) {
//     if (absl::Status s = (*sink)->Send(std::move(log), absl::InfiniteFuture());
//         !s.ok()) return s;
//   }
//   return (*sink)->Close(absl::InfiniteFuture());   // flushes and fsyncs
//
// Local file I/O cannot be interrupted, so the deadlines of Send/Flush/Close are not
// used. All methods are thread-safe; lines from concurrent Send() calls never mix.
//
// Status codes: Open: kNotFound (missing directory), kPermissionDenied, kUnavailable.
// Send: kInvalidArgument (a field not UTF-8), kFailedPrecondition (after Close),
// kResourceExhausted (disk full), kUnavailable. Flush / Close: kResourceExhausted,
// kUnavailable; Flush after Close: kFailedPrecondition.
#ifndef UTMSTACK_SINK_JSON_LINES_SINK_H_
#define UTMSTACK_SINK_JSON_LINES_SINK_H_

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "proto/plugins.pb.h"
#include "utmstack_sink/internal/validate_log.h"
#include "utmstack_sink/sink.h"

namespace utmstack_sink {

// Returns `log` as one line of protobuf-mapped JSON, without the trailing newline.
// Errors: kInvalidArgument when a string field is not well-formed UTF-8 (JSON cannot
// carry it). Thread-safe.
inline absl::StatusOr<std::string> LogToJsonLine(const plugins::Log& log) {
  if (absl::Status s = utmstack_sink_internal::ValidateLogUtf8(log); !s.ok()) {
    return s;
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions options;  // compact, json_name keys
  auto status = google::protobuf::util::MessageToJsonString(log, &json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("log ", utmstack_sink_internal::PrintableId(log.id()),
                     ": JSON encoding failed: ", std::string(status.message())));
  }
  return json;
}

struct JsonLinesSinkOptions {
  // Keep what the file holds and add to its end; false truncates it on Open.
  bool append = true;
  // Flush() calls fsync() after fflush(), so an OK Flush survives a power cut.
  // Turn off where only the order of lines matters (a test fake's record file).
  bool fsync_on_flush = true;
};

class JsonLinesSink final : public Sink {
 public:
  // Opens (creating it with mode 0644 if needed) the file at `path`.
  // Returns the sink, or kNotFound (missing directory), kPermissionDenied, or
  // kUnavailable (other open errors), each naming the path. Thread-safe.
  static absl::StatusOr<std::unique_ptr<JsonLinesSink>> Open(
      const std::string& path, JsonLinesSinkOptions options = {}) {
    FILE* file = std::fopen(path.c_str(), options.append ? "ae" : "we");
    if (file == nullptr) {
      const int err = errno;
      return ErrnoStatus(
          err, absl::StrCat("cannot open JSON-lines file ", path, " for writing"));
    }
    return std::unique_ptr<JsonLinesSink>(new JsonLinesSink(file, path, options));
  }

  // Writes to `out`, which is not owned and must outlive the sink. Flush() flushes
  // the stream; Close() flushes it and leaves it open.
  explicit JsonLinesSink(std::ostream* out) : out_(out), name_("output stream") {}

  JsonLinesSink(const JsonLinesSink&) = delete;
  JsonLinesSink& operator=(const JsonLinesSink&) = delete;

  // Flushes and closes; errors at this point are lost, so call Close() to see them.
  ~JsonLinesSink() override { (void)Close(absl::InfinitePast()); }

  // kInvalidArgument for a Log Send refuses: a field not UTF-8. Thread-safe.
  absl::Status Check(const plugins::Log& log) const override {
    return utmstack_sink_internal::ValidateLogUtf8(log);
  }

  // Appends `log` as one JSON line (buffered until Flush). Returns OK, or
  // kInvalidArgument (a field is not UTF-8; nothing written), kFailedPrecondition
  // (after Close), kResourceExhausted (disk full), kUnavailable (other write errors).
  // Thread-safe.
  absl::Status Send(plugins::Log log, absl::Time /*deadline*/) override {
    absl::StatusOr<std::string> line = LogToJsonLine(log);
    if (!line.ok()) return line.status();
    line->push_back('\n');
    absl::MutexLock lock(&mu_);
    if (closed_) {
      return absl::FailedPreconditionError(
          absl::StrCat("JSON-lines sink ", name_, " is closed: Send after Close"));
    }
    if (!failed_.ok()) return failed_;
    if (file_ != nullptr) {
      if (std::fwrite(line->data(), 1, line->size(), file_) != line->size()) {
        const int err = errno;
        return Failed(ErrnoStatus(err, absl::StrCat("writing to ", name_, " failed")));
      }
    } else {
      out_->write(line->data(), static_cast<std::streamsize>(line->size()));
      if (!out_->good()) {
        return absl::UnavailableError(
            absl::StrCat("writing to ", name_, " failed: the stream is in a bad state"));
      }
    }
    ++lines_;
    return absl::OkStatus();
  }

  // Writes out everything buffered (fflush, then fsync unless turned off). Returns OK,
  // kFailedPrecondition after Close, kResourceExhausted (disk full), kUnavailable.
  // Thread-safe.
  absl::Status Flush(absl::Time /*deadline*/) override {
    absl::MutexLock lock(&mu_);
    if (closed_) {
      return absl::FailedPreconditionError(
          absl::StrCat("JSON-lines sink ", name_, " is closed: Flush after Close"));
    }
    return FlushLocked();
  }

  // Flushes, then closes the file (a stream stays open). Returns the flush or close
  // error if any; a second Close returns OK. Thread-safe.
  absl::Status Close(absl::Time /*deadline*/) override {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::OkStatus();
    closed_ = true;
    absl::Status status = FlushLocked();
    if (file_ != nullptr) {
      if (std::fclose(file_) != 0 && status.ok()) {
        const int err = errno;
        status = ErrnoStatus(err, absl::StrCat("closing ", name_, " failed"));
      }
      file_ = nullptr;
    }
    return status;
  }

  // Returns how many lines Send() has written. Thread-safe.
  uint64_t lines() const {
    absl::MutexLock lock(&mu_);
    return lines_;
  }

 private:
  JsonLinesSink(FILE* file, std::string path, JsonLinesSinkOptions options)
      : file_(file), name_(std::move(path)), options_(options) {}

  static absl::Status ErrnoStatus(int err, const std::string& what) {
    std::string message = absl::StrCat(what, ": ", std::strerror(err));
    switch (err) {
      case ENOENT:
      case ENOTDIR:
        return absl::NotFoundError(absl::StrCat(message, ": create the directory first"));
      case EACCES:
      case EPERM:
      case EROFS:
        return absl::PermissionDeniedError(
            absl::StrCat(message, ": check the file's permissions"));
      case ENOSPC:
      case EDQUOT:
        return absl::ResourceExhaustedError(absl::StrCat(message, ": free disk space"));
      default:
        return absl::UnavailableError(message);
    }
  }

  // A failed write, flush or fsync fails every later Send and Flush too: stdio drops
  // the buffer it could not write, and the kernel reports a failed writeback once, so
  // a later flush would succeed without the lost lines (and another caller sharing the
  // sink would take that for durability).
  absl::Status Failed(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    failed_ = absl::Status(status.code(),
                           absl::StrCat(status.message(), "; lines written since the last "
                                        "good flush may be lost: reopen the file"));
    return failed_;
  }

  absl::Status FlushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (file_ != nullptr) {
      if (!failed_.ok()) return failed_;
      if (std::fflush(file_) != 0) {
        const int err = errno;
        return Failed(ErrnoStatus(err, absl::StrCat("flushing ", name_, " failed")));
      }
      if (options_.fsync_on_flush && ::fsync(fileno(file_)) != 0) {
        const int err = errno;
        return Failed(ErrnoStatus(err, absl::StrCat("fsync of ", name_, " failed")));
      }
      return absl::OkStatus();
    }
    out_->flush();
    if (!out_->good()) {
      return absl::UnavailableError(
          absl::StrCat("flushing ", name_, " failed: the stream is in a bad state"));
    }
    return absl::OkStatus();
  }

  mutable absl::Mutex mu_;
  FILE* file_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::ostream* out_ ABSL_GUARDED_BY(mu_) = nullptr;
  const std::string name_;
  const JsonLinesSinkOptions options_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t lines_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status failed_ ABSL_GUARDED_BY(mu_);  // the first write/flush/fsync error, kept
};

}  // namespace utmstack_sink

#endif  // UTMSTACK_SINK_JSON_LINES_SINK_H_
