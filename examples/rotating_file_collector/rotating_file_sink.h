// File: examples/rotating_file_collector/rotating_file_sink.h
//
// A utmstack_sink::Sink that writes each plugins::Log as one JSON line (the same line
// JsonLinesSink writes: protobuf's JSON mapping) into numbered files in a directory,
// starting a new file when the current one would grow past a size:
//
//   <dir>/<prefix>-000001.jsonl, <prefix>-000002.jsonl, ...
//
// It shows what a custom sink must guarantee for the collector's at-least-once delivery:
// Flush() returns OK only once every Log sent so far is on disk (fflush + fsync of the
// current file; a file is fsynced before it is closed at rotation), because the collector
// saves its cursor right after an OK Flush.
//
// A new sink never appends to an existing file: it continues the numbering after the
// highest-numbered file of its prefix in the directory, so a restarted collector writes
// new files and never touches lines that a reader may already have shipped. Files are
// opened when the first line needs one. With max_files > 0 the oldest files of the prefix
// are deleted whenever a new file is started, so that at most max_files remain (only for
// readers that ship files as soon as they are closed).
//
// Example:
//   RotatingFileSinkOptions options;
//   options.directory = "/var/spool/azure-la";
//   options.max_file_bytes = 64 << 20;
//   absl::StatusOr<std::unique_ptr<RotatingFileSink>> sink = RotatingFileSink::Open(options);
//   if (!sink.ok()) return sink.status();
//   for (plugins::Log& log : logs) {
//     if (absl::Status s = (*sink)->Send(std::move(log), absl::InfiniteFuture()); !s.ok()) return s;
//   }
//   if (absl::Status s = (*sink)->Flush(absl::InfiniteFuture()); !s.ok()) return s;
//   // every Log above is on disk from here on
//
// Status codes: Open: kInvalidArgument (no directory or size given), kPermissionDenied,
// kUnavailable (the directory cannot be made or listed). Send: kInvalidArgument (a field
// is not UTF-8; nothing written), kFailedPrecondition (after Close), kResourceExhausted
// (disk full), kPermissionDenied, kUnavailable. Flush / Close: kResourceExhausted,
// kUnavailable; Flush after Close: kFailedPrecondition. Local file I/O cannot be
// interrupted, so deadlines are not used.
//
// Thread-safe: every method may be called from several threads; lines never mix.
#ifndef EXAMPLES_ROTATING_FILE_COLLECTOR_ROTATING_FILE_SINK_H_
#define EXAMPLES_ROTATING_FILE_COLLECTOR_ROTATING_FILE_SINK_H_

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/plugins.pb.h"
#include "utmstack_sink/json_lines_sink.h"
#include "utmstack_sink/sink.h"

namespace rotating_file {

struct RotatingFileSinkOptions {
  // Where the files go; created (with parents) when missing.
  std::string directory;
  // Files are <prefix>-NNNNNN.jsonl.
  std::string prefix = "events";
  // A file is closed and the next one started before a line would take it past this
  // size. A single line larger than this gets a file of its own.
  uint64_t max_file_bytes = uint64_t{64} << 20;
  // Keep at most this many files of the prefix (oldest deleted at rotation); 0: all.
  int max_files = 0;
  // fsync at Flush and before a file is closed (off only where durability does not
  // matter, e.g. a benchmark).
  bool fsync = true;
};

class RotatingFileSink final : public utmstack_sink::Sink {
 public:
  // Checks the options, makes the directory, and finds the next file number.
  // Thread-safe.
  static absl::StatusOr<std::unique_ptr<RotatingFileSink>> Open(RotatingFileSinkOptions options) {
    if (options.directory.empty() || options.prefix.empty() || options.max_file_bytes == 0) {
      return absl::InvalidArgumentError(
          "rotating file sink: give a directory, a file prefix and a max_file_bytes above 0");
    }
    std::error_code error;
    std::filesystem::create_directories(options.directory, error);
    if (error) return FsStatus(error, "cannot create the directory", options.directory);
    absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> existing =
        ListFiles(options.directory, options.prefix);
    if (!existing.ok()) return existing.status();
    const uint64_t last = existing->empty() ? 0 : existing->back().first;
    return std::unique_ptr<RotatingFileSink>(new RotatingFileSink(std::move(options), last));
  }

  RotatingFileSink(const RotatingFileSink&) = delete;
  RotatingFileSink& operator=(const RotatingFileSink&) = delete;
  // Closes; errors at this point are lost, so call Close() to see them.
  ~RotatingFileSink() override { (void)Close(absl::InfinitePast()); }

  // Appends `log` as one JSON line to the current file, rotating first when the line
  // would take the file past max_file_bytes. Thread-safe.
  absl::Status Send(plugins::Log log, absl::Time /*deadline*/) override {
    absl::StatusOr<std::string> line = utmstack_sink::LogToJsonLine(log);
    if (!line.ok()) return line.status();
    line->push_back('\n');
    absl::MutexLock lock(&mu_);
    if (closed_) {
      return absl::FailedPreconditionError("rotating file sink: Send after Close");
    }
    if (file_ != nullptr && bytes_ > 0 && bytes_ + line->size() > options_.max_file_bytes) {
      if (absl::Status s = CloseFileLocked(); !s.ok()) return s;
    }
    if (file_ == nullptr) {
      if (absl::Status s = OpenNextLocked(); !s.ok()) return s;
    }
    if (std::fwrite(line->data(), 1, line->size(), file_) != line->size()) {
      return ErrnoStatus(errno, "writing to", path_);
    }
    bytes_ += line->size();
    ++lines_;
    return absl::OkStatus();
  }

  // Returns OK once every line sent so far is on disk. Thread-safe.
  absl::Status Flush(absl::Time /*deadline*/) override {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::FailedPreconditionError("rotating file sink: Flush after Close");
    return SyncLocked();
  }

  // Flushes and closes the current file; a second Close returns OK. Thread-safe.
  absl::Status Close(absl::Time /*deadline*/) override {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::OkStatus();
    closed_ = true;
    return file_ == nullptr ? absl::OkStatus() : CloseFileLocked();
  }

  // Lines written, and files opened, by this sink. Thread-safe.
  uint64_t lines() const {
    absl::MutexLock lock(&mu_);
    return lines_;
  }
  uint64_t files_opened() const {
    absl::MutexLock lock(&mu_);
    return files_opened_;
  }

  // The files of `prefix` in `directory`, oldest (lowest number) first, as
  // (number, path). kUnavailable when the directory cannot be listed. Thread-safe.
  static absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> ListFiles(
      const std::string& directory, const std::string& prefix) {
    std::vector<std::pair<uint64_t, std::string>> files;
    std::error_code error;
    for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end;
         it.increment(error)) {
      const std::string filename = it->path().filename().string();
      absl::string_view name = filename;
      uint64_t number = 0;
      if (!absl::ConsumePrefix(&name, prefix) || !absl::ConsumePrefix(&name, "-") ||
          !absl::ConsumeSuffix(&name, ".jsonl") || name.size() < 6 ||
          !absl::SimpleAtoi(name, &number)) {
        continue;
      }
      files.emplace_back(number, it->path().string());
    }
    if (error) return FsStatus(error, "cannot list", directory);
    std::sort(files.begin(), files.end());
    return files;
  }

 private:
  RotatingFileSink(RotatingFileSinkOptions options, uint64_t last_number)
      : options_(std::move(options)), number_(last_number) {}

  static absl::Status ErrnoStatus(int err, absl::string_view what, const std::string& path) {
    const std::string message = absl::StrCat("rotating file sink: ", what, " ", path, ": ",
                                             std::strerror(err));
    switch (err) {
      case ENOSPC:
      case EDQUOT:
        return absl::ResourceExhaustedError(absl::StrCat(message, "; free disk space"));
      case EACCES:
      case EPERM:
      case EROFS:
        return absl::PermissionDeniedError(
            absl::StrCat(message, "; the directory must be writable by this user"));
      default:
        return absl::UnavailableError(message);
    }
  }

  static absl::Status FsStatus(const std::error_code& error, absl::string_view what,
                               const std::string& path) {
    return ErrnoStatus(error.value(), what, path);
  }

  absl::Status OpenNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ++number_;
    path_ = absl::StrFormat("%s/%s-%06d.jsonl", options_.directory, options_.prefix, number_);
    // "x": never reuse a file that appeared meanwhile; "e": close on exec.
    file_ = std::fopen(path_.c_str(), "wxe");
    if (file_ == nullptr) return ErrnoStatus(errno, "cannot create", path_);
    bytes_ = 0;
    ++files_opened_;
    return PruneLocked();
  }

  absl::Status SyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (file_ == nullptr) return absl::OkStatus();
    if (std::fflush(file_) != 0) return ErrnoStatus(errno, "flushing", path_);
    if (options_.fsync && ::fsync(fileno(file_)) != 0) return ErrnoStatus(errno, "fsync of", path_);
    return absl::OkStatus();
  }

  // Syncs and closes the current file.
  absl::Status CloseFileLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::Status status = SyncLocked();
    if (std::fclose(file_) != 0 && status.ok()) status = ErrnoStatus(errno, "closing", path_);
    file_ = nullptr;
    return status;
  }

  // Deletes the oldest files of the prefix beyond max_files (the current one included).
  absl::Status PruneLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (options_.max_files <= 0) return absl::OkStatus();
    absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> files =
        ListFiles(options_.directory, options_.prefix);
    if (!files.ok()) return files.status();
    const size_t keep = static_cast<size_t>(options_.max_files);
    for (size_t i = 0; i + keep < files->size(); ++i) {
      std::error_code ignored;
      std::filesystem::remove((*files)[i].second, ignored);
    }
    return absl::OkStatus();
  }

  const RotatingFileSinkOptions options_;
  mutable absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  FILE* file_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::string path_ ABSL_GUARDED_BY(mu_);
  uint64_t number_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t lines_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t files_opened_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace rotating_file

#endif  // EXAMPLES_ROTATING_FILE_COLLECTOR_ROTATING_FILE_SINK_H_
