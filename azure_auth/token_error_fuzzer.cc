// Feeds arbitrary bytes to ParseTokenError as the body of an error answer and checks
// what it promises: no crash, never OK, and a bounded, printable message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "azure_auth/token_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static constexpr int kStatuses[] = {400, 401, 403, 404, 429, 500, 503};
  absl::string_view body(reinterpret_cast<const char*>(data), size);
  int http_status = kStatuses[size % (sizeof(kStatuses) / sizeof(kStatuses[0]))];
  absl::Status status = azure_auth::ParseTokenError(http_status, body);
  if (status.ok() || status.message().empty() || status.message().size() > 2048) {
    std::abort();
  }
  for (char c : status.message()) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) {
      std::abort();
    }
  }
  return 0;
}
