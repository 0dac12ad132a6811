// File: plugin_main/checkpoint_store.h
//
// Durable cursors: one small, readable JSON file per (workspace, query) in the state
// directory. A checkpoint is written only after the sink confirmed every Log before it,
// and written so that a crash at any instant leaves either the old or the new file,
// never a torn one: write to a temporary file in the same directory, fsync it, rename
// it over the old one, fsync the directory. Files are created 0600.
//
// Example:
//   plugin_main::FileCheckpointStore store("/var/lib/azure-la");
//   absl::StatusOr<std::optional<plugin_main::Checkpoint>> saved = store.Load("prod", "SigninLogs");
//   if (!saved.ok()) return saved.status();            // corrupt file: never start over silently
//   plugin_main::Checkpoint cp = saved->value_or(plugin_main::Checkpoint{});
//   ...deliver a page and flush the sink...
//   cp.ingestion_time = page.next_cursor.ingestion_time;
//   cp.item_id = page.next_cursor.item_id;
//   if (absl::Status s = store.Save("prod", "SigninLogs", cp); !s.ok()) return s;
//
// Status codes: kDataLoss for a checkpoint file that exists but cannot be parsed (the
// message names the file and says how to recover), kUnavailable / kResourceExhausted
// for I/O failures (disk full), kPermissionDenied when the state directory is not
// writable. FileCheckpointStore is thread-safe for distinct (workspace, query) pairs;
// each pair is written by one collector only.
#ifndef PLUGIN_MAIN_CHECKPOINT_STORE_H_
#define PLUGIN_MAIN_CHECKPOINT_STORE_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/json_string.h"
#include "simdjson.h"

namespace plugin_main {

// The persisted state of one (workspace, query).
struct Checkpoint {
  // Ingestion time of the last record the engine confirmed; InfinitePast = none yet.
  absl::Time ingestion_time = absl::InfinitePast();
  // Its _ItemId (tie-breaker among equal ingestion times); empty when the table has none.
  std::string item_id;
  uint64_t rows_delivered = 0;
  absl::Time updated_at = absl::InfinitePast();
  // The last error seen by this query, for `status`; empty when the last page succeeded.
  std::string last_error;
};

class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  // The saved checkpoint, nullopt when none was ever saved.
  virtual absl::StatusOr<std::optional<Checkpoint>> Load(absl::string_view workspace,
                                                         absl::string_view query) = 0;
  virtual absl::Status Save(absl::string_view workspace, absl::string_view query,
                            const Checkpoint& checkpoint) = 0;
};

namespace checkpoint_internal {

inline std::string FormatCheckpointTime(absl::Time t) {
  if (t == absl::InfinitePast()) return "";
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

inline absl::Status ErrnoStatus(absl::string_view what, const std::string& path, int err) {
  std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) {
    return absl::ResourceExhaustedError(
        absl::StrCat(message, "; free space in the state directory. The previous "
                              "checkpoint is intact and the pages after it will be re-read"));
  }
  if (err == EACCES || err == EPERM || err == EROFS) {
    return absl::PermissionDeniedError(
        absl::StrCat(message, "; the state directory must be writable by the connector's user"));
  }
  return absl::UnavailableError(message);
}

}  // namespace checkpoint_internal

// Serialises `cp` as the JSON document a checkpoint file holds.
inline std::string CheckpointToJson(absl::string_view workspace, absl::string_view query,
                                    const Checkpoint& cp) {
  using common::AppendJsonString;
  using checkpoint_internal::FormatCheckpointTime;
  std::string out = "{\n  \"workspace\": ";
  AppendJsonString(&out, workspace);
  out += ",\n  \"query\": ";
  AppendJsonString(&out, query);
  out += ",\n  \"ingestion_time\": ";
  AppendJsonString(&out, FormatCheckpointTime(cp.ingestion_time));
  out += ",\n  \"item_id\": ";
  AppendJsonString(&out, cp.item_id);
  out += ",\n  \"rows_delivered\": ";
  absl::StrAppend(&out, cp.rows_delivered);
  out += ",\n  \"updated_at\": ";
  AppendJsonString(&out, FormatCheckpointTime(cp.updated_at));
  out += ",\n  \"last_error\": ";
  AppendJsonString(&out, cp.last_error);
  out += "\n}\n";
  return out;
}

// Parses a checkpoint document. kDataLoss naming `source` when it is not one.
inline absl::StatusOr<Checkpoint> CheckpointFromJson(absl::string_view json,
                                                     absl::string_view source) {
  auto corrupt = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat(
        "checkpoint ", source, " is corrupt (", why,
        "). It was not overwritten. Fix it, or delete it to start this query again from "
        "its configured start_at, or restore it from a backup"));
  };
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) {
    return corrupt("not valid JSON");
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return corrupt("not a JSON object");
  Checkpoint cp;
  auto read_time = [&](const char* key, absl::Time* out) -> absl::Status {
    std::string_view text;
    if (obj[key].get_string().get(text) != simdjson::SUCCESS) {
      return corrupt(absl::StrCat("\"", key, "\" missing or not a string"));
    }
    if (text.empty()) {
      *out = absl::InfinitePast();
      return absl::OkStatus();
    }
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, absl::string_view(text.data(), text.size()), out, &err)) {
      return corrupt(absl::StrCat("\"", key, "\" is not an RFC 3339 time"));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = read_time("ingestion_time", &cp.ingestion_time); !s.ok()) return s;
  if (absl::Status s = read_time("updated_at", &cp.updated_at); !s.ok()) return s;
  std::string_view item_id;
  if (obj["item_id"].get_string().get(item_id) != simdjson::SUCCESS) {
    return corrupt("\"item_id\" missing or not a string");
  }
  cp.item_id = std::string(item_id);
  uint64_t rows = 0;
  if (obj["rows_delivered"].get_uint64().get(rows) != simdjson::SUCCESS) {
    return corrupt("\"rows_delivered\" missing or not a whole number");
  }
  cp.rows_delivered = rows;
  std::string_view last_error;
  if (obj["last_error"].get_string().get(last_error) == simdjson::SUCCESS) {
    cp.last_error = std::string(last_error);
  }
  return cp;
}

namespace checkpoint_internal {

// A name as one file-name component: '/', '%' and control bytes become %XX, everything
// else stays (names from the config file, letters, digits, '-', '_' and '.', are
// unchanged; a UTMStack console group may be named "Prod/EU").
inline std::string FileNamePart(absl::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == '%' || u < 0x20 || u == 0x7F) {
      absl::StrAppend(&out, "%", absl::Hex(u, absl::kZeroPad2));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Makes the entries of directory `dir` durable (after a rename or a mkdir in it).
inline absl::Status FsyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open directory", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("cannot fsync directory", dir, err);
  return absl::OkStatus();
}

}  // namespace checkpoint_internal

// Checkpoints as files `<dir>/<workspace>.<query>.json` (with '/', '%' and control
// bytes in the names written as %XX).
class FileCheckpointStore : public CheckpointStore {
 public:
  explicit FileCheckpointStore(std::string dir) : dir_(std::move(dir)) {
    // "/x/state/" names the same directory as "/x/state", whose parent is "/x".
    while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  }

  // Creates the directory (0700, with any missing parents) if it does not exist; an
  // existing one that this user owns and others may enter is narrowed to 0700 (the
  // cursors tell which workspaces and queries are read, and how far).
  // kPermissionDenied/kUnavailable when it cannot be created, kFailedPrecondition when
  // the path is not a directory.
  absl::Status EnsureDirectory() const {
    std::error_code ec;
    const std::filesystem::path path(dir_);
    if (path.has_parent_path() && !std::filesystem::exists(path.parent_path(), ec)) {
      std::filesystem::create_directories(path.parent_path(), ec);
      if (ec) {
        return checkpoint_internal::ErrnoStatus("cannot create the parents of state directory",
                                                dir_, ec.value());
      }
    }
    if (::mkdir(dir_.c_str(), 0700) == 0) {
      // The new directory's entry in its parent must survive a power cut too, or the
      // first checkpoints vanish with it and the next start begins again at start_at.
      const std::string parent =
          path.has_parent_path() ? path.parent_path().string() : std::string(".");
      if (absl::Status s = checkpoint_internal::FsyncDirectory(parent); !s.ok()) return s;
    } else if (errno != EEXIST) {
      return checkpoint_internal::ErrnoStatus("cannot create state directory", dir_, errno);
    }
    struct stat st;
    if (::stat(dir_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("state directory ", dir_, " is not a directory"));
    }
    if ((st.st_mode & 077) != 0 && st.st_uid == ::geteuid() &&
        ::chmod(dir_.c_str(), 0700) != 0) {
      return checkpoint_internal::ErrnoStatus("cannot restrict state directory to mode 0700",
                                              dir_, errno);
    }
    return absl::OkStatus();
  }

  std::string PathFor(absl::string_view workspace, absl::string_view query) const {
    return FilePath(checkpoint_internal::FileNamePart(workspace),
                    checkpoint_internal::FileNamePart(query));
  }

  absl::StatusOr<std::optional<Checkpoint>> Load(absl::string_view workspace,
                                                 absl::string_view query) override {
    std::string path = PathFor(workspace, query);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      // Written before names were escaped (a console group named "50% EU"): read it
      // there; the next Save moves it to the escaped name.
      if (std::optional<std::string> legacy = LegacyPathFor(workspace, query)) {
        fd = ::open(legacy->c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0 || errno != ENOENT) path = *legacy;
      }
      if (fd < 0 && errno == ENOENT) return std::optional<Checkpoint>();
    }
    if (fd < 0) {
      return absl::DataLossError(absl::StrCat("checkpoint ", path, " cannot be read: ",
                                              std::strerror(errno),
                                              "; fix its permissions (it was not replaced)"));
    }
    std::string content;
    char buffer[8192];
    for (;;) {
      ssize_t n = ::read(fd, buffer, sizeof(buffer));
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        return absl::DataLossError(
            absl::StrCat("checkpoint ", path, " cannot be read: ", std::strerror(err)));
      }
      if (n == 0) break;
      content.append(buffer, static_cast<size_t>(n));
      if (content.size() > (1 << 20)) {
        ::close(fd);
        return absl::DataLossError(absl::StrCat("checkpoint ", path,
                                                " is larger than 1 MiB: not a checkpoint"));
      }
    }
    ::close(fd);
    auto cp = CheckpointFromJson(content, path);
    if (!cp.ok()) return cp.status();
    return std::optional<Checkpoint>(*std::move(cp));
  }

  absl::Status Save(absl::string_view workspace, absl::string_view query,
                    const Checkpoint& checkpoint) override {
    using checkpoint_internal::ErrnoStatus;
    const std::string path = PathFor(workspace, query);
    const std::string tmp = absl::StrCat(path, ".tmp");
    const std::string content = CheckpointToJson(workspace, query, checkpoint);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus("cannot write checkpoint", tmp, errno);
    size_t written = 0;
    while (written < content.size()) {
      ssize_t n = ::write(fd, content.data() + written, content.size() - written);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return ErrnoStatus("cannot write checkpoint", tmp, err);
      }
      written += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return ErrnoStatus("cannot fsync checkpoint", tmp, err);
    }
    if (::close(fd) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return ErrnoStatus("cannot close checkpoint", tmp, err);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return ErrnoStatus("cannot replace checkpoint", path, err);
    }
    if (absl::Status s = checkpoint_internal::FsyncDirectory(dir_); !s.ok()) return s;
    // The file under the name written before names were escaped is now stale. Left
    // behind by a crash, it is harmless: Load reads the escaped name first.
    if (std::optional<std::string> legacy = LegacyPathFor(workspace, query)) {
      ::unlink(legacy->c_str());
    }
    return absl::OkStatus();
  }

  const std::string& dir() const { return dir_; }

 private:
  // "<dir>/<workspace>.<query>.json", the parts as given.
  std::string FilePath(absl::string_view workspace, absl::string_view query) const {
    return absl::StrCat(dir_, "/", workspace, ".", query, ".json");
  }

  // The file name used before names were escaped, when it differs from PathFor's and
  // was a file of this directory (no '/' in the names).
  std::optional<std::string> LegacyPathFor(absl::string_view workspace,
                                           absl::string_view query) const {
    if (absl::StrContains(workspace, '/') || absl::StrContains(query, '/')) return std::nullopt;
    std::string legacy = FilePath(workspace, query);
    if (legacy == PathFor(workspace, query)) return std::nullopt;
    return legacy;
  }

  std::string dir_;
};

}  // namespace plugin_main

#endif  // PLUGIN_MAIN_CHECKPOINT_STORE_H_
