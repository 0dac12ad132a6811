// Feeds arbitrary bytes, as curl would (one header line per call, then body chunks),
// through CurlTransport's header and body callbacks and checks what they keep.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "http/http_transport.h"
#include "http/internal/curl_callbacks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  // The first byte picks the body limit; the rest is "head\n\nbody".
  size_t limit = size == 0 ? 0 : static_cast<size_t>(data[0]) * 4;
  if (size > 0) input.remove_prefix(1);
  size_t split = input.find("\n\n");
  absl::string_view head = input.substr(0, split);
  absl::string_view body =
      split == absl::string_view::npos ? absl::string_view() : input.substr(split + 2);

  http::HttpResponse response;
  http::curl_internal::Transfer transfer{&response, limit};
  for (absl::string_view line : absl::StrSplit(head, '\n')) {
    std::string raw = std::string(line) + "\n";
    size_t taken = http::curl_internal::OnHeader(raw.data(), 1, raw.size(), &transfer);
    if (taken != raw.size()) std::abort();
  }
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || name.find(':') != std::string::npos) std::abort();
    if (absl::StripAsciiWhitespace(name) != name) std::abort();
    if (absl::StripAsciiWhitespace(value) != value) std::abort();
  }
  // Body in chunks of 7 bytes: never more than the limit is kept.
  bool aborted = false;
  for (size_t at = 0; at < body.size() && !aborted; at += 7) {
    std::string chunk(body.substr(at, 7));
    size_t taken = http::curl_internal::OnBody(chunk.data(), 1, chunk.size(), &transfer);
    aborted = taken != chunk.size();
    if (aborted && (taken != 0 || !transfer.over_limit)) std::abort();
  }
  if (response.body.size() > limit) std::abort();
  if (!aborted && response.body != body) std::abort();

  (void)http::curl_internal::SafeHost(head);
  (void)http::curl_internal::SafeDetail(body, head);
  return 0;
}
