// File: testdata/workspace_model/model_transport.h
//
// An http::HttpTransport that answers Query API requests from a WorkspaceModel in the
// same process, with the checks the real service (and FakeAzureServer) makes first:
//   not POST {any host}/v1/workspaces/{id}/query       404, empty body
//   no "Authorization: Bearer <something>"             401 AuthenticationFailed
//   Content-Type not application/json                  200 with an empty body
//   body not a JSON object with a "query" string       400 BadArgumentError
//   otherwise                                          WorkspaceModel::Answer
// An answer larger than RequestOptions::max_response_bytes fails with kOutOfRange, as
// the curl transport does. No sockets, no TLS: for fast simulations and benchmarks.
//
// Example:
//   workspace_model::WorkspaceModel model(clock.AsClock());
//   auto transport = std::make_shared<workspace_model::ModelTransport>(&model);
//   loganalytics::QueryClient client(transport, credential, options);
//
// Thread-safe.
#ifndef TESTDATA_WORKSPACE_MODEL_MODEL_TRANSPORT_H_
#define TESTDATA_WORKSPACE_MODEL_MODEL_TRANSPORT_H_

#include <atomic>
#include <optional>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "http/http_transport.h"
#include "simdjson.h"
#include "testdata/workspace_model/workspace_model.h"

namespace workspace_model {

class ModelTransport : public http::HttpTransport {
 public:
  // `model` must outlive the transport.
  explicit ModelTransport(WorkspaceModel* model) : model_(model) {}

  using http::HttpTransport::Send;
  absl::StatusOr<http::HttpResponse> Send(const http::HttpRequest& request,
                                          const http::RequestOptions& options) override {
    requests_.fetch_add(1);
    http::HttpResponse response;
    constexpr absl::string_view kPrefix = "/v1/workspaces/";
    absl::string_view url = request.url;
    size_t path = url.find(kPrefix);
    if (request.method != "POST" || path == absl::string_view::npos ||
        !absl::EndsWith(url, "/query")) {
      response.status = 404;
      return response;
    }
    absl::string_view workspace = url.substr(path + kPrefix.size());
    workspace.remove_suffix(6);  // "/query"
    std::optional<std::string> authorization = Header(request, "Authorization");
    if (!authorization || !absl::StartsWith(*authorization, "Bearer ") ||
        authorization->size() <= 7) {
      response.status = 401;
      response.body = model_internal::Envelope(
          "AuthenticationFailed",
          "Authentication failed. The 'Authorization' header is missing, or the access "
          "token it carries is invalid or has expired.",
          401);
      return response;
    }
    std::optional<std::string> content_type = Header(request, "Content-Type");
    if (!content_type || !absl::StartsWithIgnoreCase(*content_type, "application/json")) {
      response.status = 200;
      return response;
    }
    ModelRequest query;
    query.workspace_id = std::string(workspace);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::string_view text;
    if (parser.parse(request.body).get(doc) != simdjson::SUCCESS || !doc.is_object() ||
        doc["query"].get(text) != simdjson::SUCCESS) {
      response.status = 400;
      response.body = model_internal::Envelope(
          "BadArgumentError", "The request body is not a JSON object with a \"query\"", 400);
      return response;
    }
    query.query = std::string(text);
    if (doc["timespan"].get(text) == simdjson::SUCCESS) query.timespan = std::string(text);
    ModelReply reply = model_->Answer(query);
    if (reply.body.size() > options.max_response_bytes) {
      return absl::OutOfRangeError(absl::StrCat(
          "answer of ", reply.body.size(), " bytes is larger than the limit of ",
          options.max_response_bytes, " bytes"));
    }
    response.status = reply.status;
    response.headers = std::move(reply.headers);
    response.body = std::move(reply.body);
    return response;
  }

  int64_t requests() const { return requests_.load(); }

 private:
  static std::optional<std::string> Header(const http::HttpRequest& request,
                                           absl::string_view name) {
    for (const auto& [key, value] : request.headers) {
      if (absl::EqualsIgnoreCase(key, name)) return value;
    }
    return std::nullopt;
  }

  WorkspaceModel* model_;
  std::atomic<int64_t> requests_{0};
};

}  // namespace workspace_model

#endif  // TESTDATA_WORKSPACE_MODEL_MODEL_TRANSPORT_H_
