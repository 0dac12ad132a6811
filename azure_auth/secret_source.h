// File: azure_auth/secret_source.h
//
// Where secrets come from. A credential never holds a client secret (or a private
// key, or a federated token) for longer than one token request: it asks a
// `SecretProvider` each time, so a secret file rewritten during rotation is picked up
// by the next request without a restart.
//
//   FileSecret(path)   reads the file on every call and trims the trailing newline
//                      editors and `echo` leave; warns (once per change) when the file
//                      can be read by its group or by others.
//   EnvSecret(name)    reads an environment variable on every call.
//   FixedSecret(value) a value the program already holds (tests, embedding).
//
// Errors name the file or variable and say what to do; they never contain the
// secret, and nothing here logs. `ProcessEnvironment()` is the real environment;
// tests pass their own `EnvLookup`.
//
// Example:
//   azure_auth::SecretProvider secret = azure_auth::FileSecret(
//       "/etc/utmstack/azure-secret",
//       [&](absl::string_view note) { log.Warning(note); });
//   absl::StatusOr<std::string> value = secret();   // re-read on each call
//   if (!value.ok()) return value.status();         // e.g. kNotFound naming the file
//
// Status codes (a provider's call): kNotFound (no such file, or the variable is unset),
// kPermissionDenied (the file cannot be read), kInvalidArgument (not a regular file,
// over 1 MiB, or empty), kInternal (any other read error).
//
// Thread-safe: providers may be called from several threads at once.
#ifndef AZURE_AUTH_SECRET_SOURCE_H_
#define AZURE_AUTH_SECRET_SOURCE_H_

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"

namespace azure_auth {

// Returns the secret (or PEM text, or token) each time it is called.
// Implementations are thread-safe.
using SecretProvider = std::function<absl::StatusOr<std::string>()>;

// Looks up an environment variable; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(absl::string_view name)>;

// Receives a secret-free warning for the operator (e.g. a too-open secret file).
using WarningSink = std::function<void(absl::string_view note)>;

// The process environment (getenv). Thread-safe as long as nothing calls setenv.
inline EnvLookup ProcessEnvironment() {
  return [](absl::string_view name) -> std::optional<std::string> {
    const char* value = ::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

// A warning sink that writes one line to stderr.
inline WarningSink StderrWarnings() {
  return [](absl::string_view note) {
    std::string line = absl::StrCat("azure_auth: warning: ", note, "\n");
    (void)!::write(STDERR_FILENO, line.data(), line.size());
  };
}

// Largest file a secret, PEM bundle or federated token is read from.
inline constexpr size_t kMaxSecretFileBytes = size_t{1} << 20;

// Options for reading a secret-bearing file.
struct SecretFileOptions {
  // Names the file's role in messages: "client secret file", "certificate file", ...
  std::string what = "secret file";
  // Strip trailing "\n" / "\r\n" (a secret file usually ends with one newline).
  bool trim_trailing_newline = true;
};

// The note for a file that its group or others may read, or nullopt when the mode
// is owner-only (or the file cannot be stat'ed; reading it reports that). Thread-safe.
inline std::optional<std::string> SecretFileModeNote(const std::string& path,
                                                     absl::string_view what = "secret file") {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  if ((st.st_mode & 077) == 0) return std::nullopt;
  return absl::StrFormat(
      "%s %s is readable by %s (mode %04o): restrict it to its owner, e.g. "
      "chmod 600 %s",
      what, path, (st.st_mode & 007) ? "other users" : "its group",
      static_cast<unsigned>(st.st_mode & 07777), path);
}

// Reads the whole secret-bearing file at `path`.
// Errors (the message names the file and never its content):
//   kNotFound          the file does not exist
//   kPermissionDenied  this process may not read it
//   kInvalidArgument   not a regular file, larger than 1 MiB, or empty (after trimming)
//   kInternal          any other read error
// Thread-safe.
inline absl::StatusOr<std::string> ReadSecretFile(const std::string& path,
                                                  const SecretFileOptions& options = {}) {
  const std::string& what = options.what;
  if (path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no path is configured for the ", what));
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return absl::NotFoundError(absl::StrCat(
          what, " ", path, " does not exist: create it, or fix the configured path"));
    }
    if (err == EACCES || err == EPERM) {
      return absl::PermissionDeniedError(absl::StrCat(
          what, " ", path, " cannot be read by this process (", std::strerror(err),
          "): make it readable by the user the connector runs as"));
    }
    return absl::InternalError(
        absl::StrCat("cannot open ", what, " ", path, ": ", std::strerror(err)));
  }
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, " is not a regular file: point the "
                                      "configuration at the file holding the value"));
  }
  std::string content;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("cannot read ", what, " ", path, ": ",
                                              std::strerror(errno)));
    }
    if (n == 0) break;
    if (content.size() + static_cast<size_t>(n) > kMaxSecretFileBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " ", path, " is larger than ", kMaxSecretFileBytes,
          " bytes: it is not the file holding the value"));
    }
    content.append(buf, static_cast<size_t>(n));
  }
  if (options.trim_trailing_newline) {
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
      content.pop_back();
    }
  }
  if (content.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, " is empty: write the value into it"));
  }
  return content;
}

// A provider that reads `path` on every call (see ReadSecretFile for errors) and
// passes SecretFileModeNote's warning to `on_warning` the first time the file is
// found too open, and again after its mode changed. Thread-safe.
inline SecretProvider FileSecret(std::string path, WarningSink on_warning = nullptr,
                                 SecretFileOptions options = {}) {
  struct State {
    absl::Mutex mu;
    std::optional<std::string> last_note;
  };
  auto state = std::make_shared<State>();
  return [path = std::move(path), on_warning = std::move(on_warning),
          options = std::move(options), state]() -> absl::StatusOr<std::string> {
    absl::StatusOr<std::string> value = ReadSecretFile(path, options);
    if (value.ok() && on_warning) {
      std::optional<std::string> note = SecretFileModeNote(path, options.what);
      bool changed;
      {
        absl::MutexLock lock(&state->mu);
        changed = note != state->last_note;
        state->last_note = note;
      }
      if (changed && note.has_value()) on_warning(*note);
    }
    return value;
  };
}

// A provider that reads the environment variable `name` on every call.
// Errors: kNotFound when unset, kInvalidArgument when empty (the message names the
// variable, never its value). Thread-safe if `env` is.
inline SecretProvider EnvSecret(std::string name, EnvLookup env = ProcessEnvironment()) {
  return [name = std::move(name), env = std::move(env)]() -> absl::StatusOr<std::string> {
    std::optional<std::string> value = env(name);
    if (!value.has_value()) {
      return absl::NotFoundError(absl::StrCat(
          "environment variable ", name, " is not set: set it to the secret's value"));
    }
    if (value->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "environment variable ", name, " is empty: set it to the secret's value"));
    }
    return *std::move(value);
  };
}

// A provider returning `value` (which must not be empty). Thread-safe.
inline SecretProvider FixedSecret(std::string value) {
  return [value = std::move(value)]() -> absl::StatusOr<std::string> {
    if (value.empty()) return absl::InvalidArgumentError("the configured secret is empty");
    return value;
  };
}

}  // namespace azure_auth

#endif  // AZURE_AUTH_SECRET_SOURCE_H_
