// File: testdata/fake_azure/internal/server_util.h
//
// Small pieces the fake Azure servers share: URL/form decoding, JSON string escaping,
// random opaque tokens and the queue of injected faults. Not an API: used only by
// //testdata/fake_azure.
//
// Example:
//   std::vector<std::pair<std::string, std::string>> form =
//       fake_azure_internal::ParseForm("grant_type=client_credentials&scope=a%2F.default");
//   std::string token = fake_azure_internal::RandomToken("fake-at");
//
// Free functions are thread-safe; FaultQueue is thread-safe.
#ifndef TESTDATA_FAKE_AZURE_INTERNAL_SERVER_UTIL_H_
#define TESTDATA_FAKE_AZURE_INTERNAL_SERVER_UTIL_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace fake_azure_internal {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// Decodes %XX escapes and, when `plus_is_space`, '+' (form encoding). Malformed
// escapes are kept as they are.
inline std::string UrlDecode(absl::string_view in, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 &&
               hex(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Splits an application/x-www-form-urlencoded body into (name, value) pairs, in
// order, duplicates kept.
inline Pairs ParseForm(absl::string_view body) {
  Pairs out;
  for (absl::string_view part : absl::StrSplit(body, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    out.emplace_back(UrlDecode(kv.first, true), UrlDecode(kv.second, true));
  }
  return out;
}

// Every value stored under `name`.
inline std::vector<std::string> AllValues(const Pairs& pairs, absl::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : pairs) {
    if (k == name) out.push_back(v);
  }
  return out;
}

// `s` as a JSON string literal, quotes included.
inline std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += absl::StrCat("\\u00", absl::BytesToHexString(std::string(1, c)));
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += "\"";
  return out;
}

// A fresh opaque token "<prefix>.<43 base64url characters>" (256 random bits).
inline std::string RandomToken(absl::string_view prefix) {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    std::fprintf(stderr, "fake azure: RAND_bytes failed; cannot make tokens\n");
    std::abort();
  }
  std::string encoded;
  absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)), &encoded);
  return absl::StrCat(prefix, ".", encoded);
}

// A canned HTTP answer.
struct CannedReply {
  int status = 200;
  Pairs headers;
  std::string body;
};

// The next-n-requests fault queue behind Inject*Faults().
class FaultQueue {
 public:
  void Push(int count, const CannedReply& reply) {
    absl::MutexLock lock(&mu_);
    for (int i = 0; i < count; ++i) queue_.push_back(reply);
  }
  std::optional<CannedReply> Pop() {
    absl::MutexLock lock(&mu_);
    if (queue_.empty()) return std::nullopt;
    CannedReply reply = std::move(queue_.front());
    queue_.pop_front();
    return reply;
  }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return queue_.size();
  }

 private:
  mutable absl::Mutex mu_;
  std::deque<CannedReply> queue_;
};

}  // namespace fake_azure_internal

#endif  // TESTDATA_FAKE_AZURE_INTERNAL_SERVER_UTIL_H_
