// File: azure_auth/token_response.h
//
// Reads a successful token answer into an AccessToken. One parser serves every issuer
// the credentials talk to: the Entra ID v2 endpoint (times as JSON numbers), the v1
// endpoint (times as strings, plus expires_on, not_before and resource), and managed
// identity endpoints (IMDS: every field a string). A relative `expires_in` is
// preferred over an absolute `expires_on`, so a skewed local clock does not shorten
// or stretch the token's life; `refresh_in`, when present, sets `refresh_on`.
//
// Pure: no I/O, no logging; any byte string is a valid input (it is fuzzed by
// //azure_auth:token_response_fuzzer). Messages never quote the body, since a body
// that parses partially may still hold a token.
//
// Example:
//   absl::StatusOr<azure_auth::AccessToken> token =
//       azure_auth::ParseTokenResponse(response.body, clock());
//   if (!token.ok()) return token.status();
//   cache.Put(scope, *token);   // token->expires_on = now + expires_in
//
// Status codes: kInvalidArgument (not a token answer: not JSON, over 1 MiB, a bad
// expiry, a token_type other than Bearer), kUnauthenticated (no access_token).
//
// Pure functions: thread-safe.
#ifndef AZURE_AUTH_TOKEN_RESPONSE_H_
#define AZURE_AUTH_TOKEN_RESPONSE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "azure_auth/internal/json_fields.h"
#include "azure_auth/token_credential.h"
#include "simdjson.h"

namespace azure_auth {

// Token answers are a few kilobytes; anything larger is not one.
inline constexpr size_t kMaxTokenResponseBytes = size_t{1} << 20;
// The longest token life believed: longer values are treated as malformed.
inline constexpr int64_t kMaxTokenLifetimeSeconds = int64_t{366} * 24 * 3600;

// Parses the body of a 200 answer from a token endpoint, received at `now`.
// Returns the token with expires_on = now + expires_in (or the absolute expires_on
// when expires_in is absent) and refresh_on = now + refresh_in (InfinitePast when the
// answer has no refresh_in).
// Errors:
//   kInvalidArgument  the body is not a JSON object, is larger than 1 MiB, a time
//                     field is not an integer or is out of range, token_type is not
//                     Bearer, the token has characters an HTTP header cannot carry,
//                     or no expiry is given
//   kUnauthenticated  the answer carries no (or an empty) access_token
// Thread-safe.
inline absl::StatusOr<AccessToken> ParseTokenResponse(absl::string_view body,
                                                      absl::Time now) {
  using azure_auth_internal::JsonInt;
  constexpr absl::string_view kWhat = "token answer";
  if (body.size() > kMaxTokenResponseBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWhat, " is ", body.size(),
                     " bytes, more than a token answer can be: the endpoint is "
                     "not a token issuer (check the authority host or proxy)"));
  }
  simdjson::padded_string json(body.data(), body.size());
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (parser.iterate(json).get(doc) || doc.get_object().get(object)) {
    return absl::InvalidArgumentError(absl::StrCat(
        kWhat, " is not a valid JSON object: the endpoint is not a token issuer "
               "(check the authority host, or a proxy answering in its place)"));
  }
  std::optional<std::string> access_token;
  std::optional<std::string> token_type;
  std::optional<int64_t> expires_in, expires_on, refresh_in;
  bool has_error_field = false;
  auto malformed = [&](absl::string_view detail) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWhat, " is malformed: ", detail,
                     "; the endpoint is not behaving as a token issuer"));
  };
  for (auto field_result : object) {
    simdjson::ondemand::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || field.unescaped_key().get(key)) {
      return malformed("invalid JSON");
    }
    simdjson::ondemand::value value = field.value();
    if (key == "access_token") {
      access_token = azure_auth_internal::JsonString(value);
      if (!access_token) return malformed("access_token is not a string");
    } else if (key == "token_type") {
      token_type = azure_auth_internal::JsonString(value);
      if (!token_type) return malformed("token_type is not a string");
    } else if (key == "expires_in") {
      expires_in = JsonInt(value);
      if (!expires_in) return malformed("expires_in is not an integer");
    } else if (key == "expires_on") {
      expires_on = JsonInt(value);
      if (!expires_on) return malformed("expires_on is not epoch seconds");
    } else if (key == "refresh_in") {
      refresh_in = JsonInt(value);
      if (!refresh_in) return malformed("refresh_in is not an integer");
    } else if (key == "error") {
      has_error_field = true;
    }
  }
  // A complete object leaves nothing behind; anything after it is not JSON.
  const char* trailing = nullptr;
  if (!doc.current_location().get(trailing) && trailing >= json.data() &&
      trailing < json.data() + json.size()) {
    absl::string_view rest(trailing, json.data() + json.size() - trailing);
    if (!absl::StripAsciiWhitespace(rest).empty()) {
      return malformed("bytes follow the JSON object");
    }
  }
  if (!access_token.has_value() || access_token->empty()) {
    return absl::UnauthenticatedError(absl::StrCat(
        kWhat, " has no access_token",
        has_error_field ? " but an error field" : "",
        ": the issuer did not grant a token; check the credential settings"));
  }
  for (char c : *access_token) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F) {
      return malformed(
          "access_token has characters an Authorization header cannot carry");
    }
  }
  if (token_type.has_value() && !absl::EqualsIgnoreCase(*token_type, "Bearer")) {
    return malformed(absl::StrCat("token_type is \"",
                                  azure_auth_internal::Sanitize(*token_type, 32),
                                  "\", expected Bearer"));
  }
  AccessToken token;
  token.token = std::move(*access_token);
  if (expires_in.has_value()) {
    if (*expires_in <= 0 || *expires_in > kMaxTokenLifetimeSeconds) {
      return malformed(absl::StrCat("expires_in is ", *expires_in,
                                    " seconds, outside 1..", kMaxTokenLifetimeSeconds));
    }
    token.expires_on = now + absl::Seconds(*expires_in);
  } else if (expires_on.has_value()) {
    absl::Time at = absl::FromUnixSeconds(*expires_on);
    if (at <= now) {
      return absl::InvalidArgumentError(absl::StrCat(
          kWhat, " says the token expired at ", absl::FormatTime(at),
          ", which is not after now (", absl::FormatTime(now),
          "): check this machine's clock (NTP)"));
    }
    if (at - now > absl::Seconds(kMaxTokenLifetimeSeconds)) {
      return malformed(absl::StrCat("expires_on is ", *expires_on,
                                    ", too far in the future"));
    }
    token.expires_on = at;
  } else {
    return malformed("it has neither expires_in nor expires_on");
  }
  if (refresh_in.has_value() && *refresh_in > 0 &&
      *refresh_in <= kMaxTokenLifetimeSeconds) {
    token.refresh_on = now + absl::Seconds(*refresh_in);
  }
  return token;
}

}  // namespace azure_auth

#endif  // AZURE_AUTH_TOKEN_RESPONSE_H_
