// Feeds arbitrary bytes to ParseTokenResponse and checks what it promises: no crash,
// and an accepted answer has a non-empty, header-safe token that expires after `now`.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "azure_auth/token_response.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  absl::string_view body(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<azure_auth::AccessToken> token =
      azure_auth::ParseTokenResponse(body, now);
  if (token.ok()) {
    if (token->token.empty() || token->expires_on <= now) std::abort();
    for (char c : token->token) {
      if (static_cast<unsigned char>(c) <= 0x20 ||
          static_cast<unsigned char>(c) >= 0x7F) {
        std::abort();
      }
    }
    if (token->refresh_on != absl::InfinitePast() && token->refresh_on <= now) {
      std::abort();
    }
  } else if (token.status().message().empty()) {
    std::abort();
  }
  return 0;
}
