// File: azure_auth/internal/json_writer.h
//
// Writes the small, flat JSON objects a JWT header and claim set are made of: string
// and integer members, keys in the order given. Only what the client assertion needs.
//
// Example:
//   azure_auth_internal::JsonObjectWriter w;
//   w.String("alg", "RS256").Int("exp", 1700000600);
//   std::string json = w.Finish();   // {"alg":"RS256","exp":1700000600}
//
// Not thread-safe (one writer per thread); the free functions are.
#ifndef AZURE_AUTH_INTERNAL_JSON_WRITER_H_
#define AZURE_AUTH_INTERNAL_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "common/json_string.h"

namespace azure_auth_internal {

// Appends `s` as a JSON string literal (quotes included) to `out`. Thread-safe.
using common::AppendJsonString;

class JsonObjectWriter {
 public:
  JsonObjectWriter& String(absl::string_view key, absl::string_view value) {
    Key(key);
    AppendJsonString(&out_, value);
    return *this;
  }
  JsonObjectWriter& Int(absl::string_view key, int64_t value) {
    Key(key);
    absl::StrAppend(&out_, value);
    return *this;
  }
  // The finished object; the writer must not be used afterwards.
  std::string Finish() {
    out_.push_back('}');
    return std::move(out_);
  }

 private:
  void Key(absl::string_view key) {
    if (out_.size() > 1) out_.push_back(',');
    AppendJsonString(&out_, key);
    out_.push_back(':');
  }
  std::string out_ = "{";
};

}  // namespace azure_auth_internal

#endif  // AZURE_AUTH_INTERNAL_JSON_WRITER_H_
