// File: azure_auth/internal/test_util.h
//
// Test-only conveniences for the credential tests: a private temporary directory
// removed at the end, files written with a given mode, an environment given as a
// map, the recorded Entra ID bodies of testdata/entra, and a transport decorator that
// remembers the RequestOptions each request was sent with.
//
// Example:
//   azure_auth_internal::TempDir dir;
//   std::string path = dir.Write("secret", "value\n", 0600);
//   azure_auth::EnvLookup env = azure_auth_internal::MapEnv({{"AZURE_TENANT_ID", "t"}});
//   std::string body = azure_auth_internal::ReadEntraTestdata("error_90002.json");
//
// Thread-safe where it matters (RecordingTransport); the rest is for one test thread.
#ifndef AZURE_AUTH_INTERNAL_TEST_UTIL_H_
#define AZURE_AUTH_INTERNAL_TEST_UTIL_H_

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "azure_auth/secret_source.h"
#include "http/http_transport.h"

namespace azure_auth_internal {

class TempDir {
 public:
  TempDir() {
    const char* base = ::getenv("TEST_TMPDIR");
    std::string tmpl = absl::StrCat(base != nullptr ? base : "/tmp", "/azure-auth-XXXXXX");
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

  // Writes `content` to path()/name with `mode`; returns the full path.
  std::string Write(const std::string& name, absl::string_view content,
                    mode_t mode = 0600) const {
    std::string file = path_ + "/" + name;
    {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out.write(content.data(), static_cast<std::streamsize>(content.size()));
    }
    ::chmod(file.c_str(), mode);
    return file;
  }

 private:
  std::string path_;
};

// An EnvLookup over a fixed map.
inline azure_auth::EnvLookup MapEnv(std::map<std::string, std::string> values) {
  auto shared = std::make_shared<const std::map<std::string, std::string>>(std::move(values));
  return [shared](absl::string_view name) -> std::optional<std::string> {
    auto it = shared->find(std::string(name));
    if (it == shared->end()) return std::nullopt;
    return it->second;
  };
}

// The content of testdata/entra/<name> (the test must list it in `data`).
inline std::string ReadEntraTestdata(const std::string& name) {
  std::ifstream in("testdata/entra/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Sends through another transport and remembers each request with its options.
class RecordingTransport : public http::HttpTransport {
 public:
  explicit RecordingTransport(std::shared_ptr<http::HttpTransport> next)
      : next_(std::move(next)) {}

  using http::HttpTransport::Send;
  absl::StatusOr<http::HttpResponse> Send(const http::HttpRequest& request,
                                          const http::RequestOptions& options) override {
    {
      absl::MutexLock lock(&mu_);
      sent_.emplace_back(request, options);
    }
    return next_->Send(request, options);
  }

  std::vector<std::pair<http::HttpRequest, http::RequestOptions>> sent() const {
    absl::MutexLock lock(&mu_);
    return sent_;
  }

 private:
  std::shared_ptr<http::HttpTransport> next_;
  mutable absl::Mutex mu_;
  std::vector<std::pair<http::HttpRequest, http::RequestOptions>> sent_;
};

}  // namespace azure_auth_internal

#endif  // AZURE_AUTH_INTERNAL_TEST_UTIL_H_
