// File: testdata/fake_azure/recorded_request.h
//
// What the fake Azure servers (FakeAzureServer, FakeImdsServer) remember about each
// request they received, so tests can assert on what a client really sent: method,
// path, URL parameters, headers, raw body and decoded form fields, and the client's
// TCP port (one port per connection, which lets a test count connections).
//
// Example:
//   std::vector<fake_azure::RecordedRequest> sent = server.requests();
//   ASSERT_EQ(sent.size(), 1u);
//   EXPECT_EQ(sent[0].Form("grant_type"), "client_credentials");
//   EXPECT_EQ(sent[0].Header("authorization"), std::nullopt);
//
// A plain value type: thread-compatible.
//
// Status codes: none (nothing here can fail).
#ifndef TESTDATA_FAKE_AZURE_RECORDED_REQUEST_H_
#define TESTDATA_FAKE_AZURE_RECORDED_REQUEST_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace fake_azure {

// Name/value pairs in the order received, duplicates kept.
using Headers = std::vector<std::pair<std::string, std::string>>;

struct RecordedRequest {
  std::string method;       // "POST"
  std::string path;         // "/tenant/oauth2/v2.0/token", no query string
  Headers params;           // URL query parameters, percent-decoded
  Headers headers;          // request headers as the client sent them
  std::string body;         // raw body
  Headers form;             // decoded fields when the body is form-urlencoded
  std::string remote_addr;  // "127.0.0.1"
  int remote_port = -1;     // the client's port: equal ports, same TCP connection

  // The first header named `name` (case-insensitive); nullopt when absent.
  std::optional<std::string> Header(absl::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (absl::EqualsIgnoreCase(k, name)) return v;
    }
    return std::nullopt;
  }
  // The first URL parameter named `name`; nullopt when absent.
  std::optional<std::string> Param(absl::string_view name) const {
    for (const auto& [k, v] : params) {
      if (k == name) return v;
    }
    return std::nullopt;
  }
  // The first form field named `name`; nullopt when absent.
  std::optional<std::string> Form(absl::string_view name) const {
    for (const auto& [k, v] : form) {
      if (k == name) return v;
    }
    return std::nullopt;
  }
};

}  // namespace fake_azure

#endif  // TESTDATA_FAKE_AZURE_RECORDED_REQUEST_H_
