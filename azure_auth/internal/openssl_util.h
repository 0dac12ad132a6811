// File: azure_auth/internal/openssl_util.h
//
// Owning handles for the libcrypto objects the client assertion uses, the error queue
// turned into text, and random GUIDs. Restricted to the API subset OpenSSL and
// BoringSSL share (BIO, EVP_PKEY, X509, ERR, RAND_bytes).
//
// Example:
//   azure_auth_internal::BioPtr bio(BIO_new_mem_buf(pem.data(), pem.size()));
//   azure_auth_internal::PkeyPtr key(
//       PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr));
//   if (key == nullptr) return absl::InvalidArgumentError(
//       "no private key: " + azure_auth_internal::DrainOpenSslErrors());
//
// Thread-safe (libcrypto's error queue is per thread).
#ifndef AZURE_AUTH_INTERNAL_OPENSSL_UTIL_H_
#define AZURE_AUTH_INTERNAL_OPENSSL_UTIL_H_

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace azure_auth_internal {

struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};

using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// A PEM password callback that refuses: an encrypted key fails to load instead of
// libcrypto prompting on the terminal.
inline int NoPassword(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) {
  return -1;
}

// Empties this thread's libcrypto error queue and returns its entries as text
// ("error:...; error:..."), or "no details" when it was empty. libcrypto error
// strings name the failing function and reason, never key material.
inline std::string DrainOpenSslErrors() {
  std::string out;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no details" : out;
}

// A random (version 4) GUID in its lower-case 8-4-4-4-12 form.
// Errors: kInternal if the random generator fails.
inline absl::StatusOr<std::string> NewGuid() {
  uint8_t b[16];
  if (RAND_bytes(b, sizeof(b)) != 1) {
    return absl::InternalError(absl::StrCat(
        "the random number generator failed while making a GUID: ",
        DrainOpenSslErrors()));
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return absl::StrFormat(
      "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
      b[12], b[13], b[14], b[15]);
}

}  // namespace azure_auth_internal

#endif  // AZURE_AUTH_INTERNAL_OPENSSL_UTIL_H_
