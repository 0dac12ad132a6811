// File: azure_auth/client_assertion.h
//
// The client certificate and the JWT client assertion made with it. Entra ID accepts a
// certificate credential as a signed JWT posted in place of a client secret:
//
//   header  {"alg":"RS256","typ":"JWT","x5t":base64url(SHA-1 of the DER certificate)}
//   claims  {"aud":<token endpoint URL>,"iss":<client id>,"sub":<client id>,
//            "jti":<new random GUID>,"nbf":<now>,"exp":<now + 10 min>}
//   signed  RSASSA-PKCS1-v1_5 with SHA-256, base64url without padding
//
// `ClientCertificate::FromPem` reads one PEM text holding the RSA private key and its
// certificate (a chain may follow: the certificate matching the key is used).
// Encrypted keys are refused rather than prompted for.
//
// Example:
//   absl::StatusOr<azure_auth::ClientCertificate> cert =
//       azure_auth::ClientCertificate::FromPem(pem_text);
//   if (!cert.ok()) return cert.status();
//   absl::StatusOr<std::string> jwt = azure_auth::BuildClientAssertion(
//       *cert, client_id, azure_auth::TokenEndpoint(cloud, tenant), clock());
//   form.push_back({"client_assertion", *jwt});
//
// Errors never contain key material or the assertion. A ClientCertificate is
// immutable once made: thread-safe to share.
#ifndef AZURE_AUTH_CLIENT_ASSERTION_H_
#define AZURE_AUTH_CLIENT_ASSERTION_H_

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "azure_auth/internal/json_writer.h"
#include "azure_auth/internal/openssl_util.h"

namespace azure_auth {

// How long a client assertion is valid (Entra ID accepts 5 to 10 minutes).
inline constexpr absl::Duration kClientAssertionLifetime = absl::Minutes(10);

class ClientCertificate {
 public:
  // Reads the RSA private key and the certificate matching it from `pem`. The text
  // may hold the blocks in any order, and further certificates (a chain).
  // Errors: kInvalidArgument saying which part is missing or wrong (no key, an
  // encrypted key, a non-RSA or too short key, no certificate, or no certificate
  // matching the key). Thread-safe.
  static absl::StatusOr<ClientCertificate> FromPem(absl::string_view pem) {
    using namespace azure_auth_internal;  // NOLINT: BioPtr, PkeyPtr, X509Ptr
    ERR_clear_error();
    BioPtr key_bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (key_bio == nullptr) return absl::InternalError("out of memory reading PEM");
    PkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassword, nullptr));
    if (key == nullptr) {
      ERR_clear_error();
      if (absl::StrContains(pem, "ENCRYPTED")) {
        return absl::InvalidArgumentError(
            "the private key is encrypted: store it unencrypted in a file only the "
            "connector can read (e.g. openssl pkey -in key.pem -out plain.pem)");
      }
      return absl::InvalidArgumentError(
          "no private key found: the PEM file must hold the certificate's private "
          "key (\"-----BEGIN PRIVATE KEY-----\" or \"-----BEGIN RSA PRIVATE "
          "KEY-----\") and the certificate");
    }
    if (EVP_PKEY_id(key.get()) != EVP_PKEY_RSA) {
      return absl::InvalidArgumentError(
          "the private key is not an RSA key: Entra ID client assertions are signed "
          "with RS256; create an RSA certificate (2048 bits or more)");
    }
    if (EVP_PKEY_bits(key.get()) < 2048) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the RSA key has ", EVP_PKEY_bits(key.get()),
          " bits: Entra ID requires 2048 bits or more; create a new certificate"));
    }
    BioPtr cert_bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (cert_bio == nullptr) return absl::InternalError("out of memory reading PEM");
    int certificates = 0;
    for (;;) {
      X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, NoPassword, nullptr));
      if (cert == nullptr) break;
      ++certificates;
      if (X509_check_private_key(cert.get(), key.get()) != 1) continue;
      ERR_clear_error();
      ClientCertificate out;
      unsigned char sha1[EVP_MAX_MD_SIZE];
      unsigned int sha1_len = 0;
      if (X509_digest(cert.get(), EVP_sha1(), sha1, &sha1_len) != 1) {
        return absl::InternalError(
            absl::StrCat("cannot hash the certificate: ", DrainOpenSslErrors()));
      }
      out.thumbprint_.assign(reinterpret_cast<const char*>(sha1), sha1_len);
      unsigned char* der = nullptr;
      int der_len = i2d_X509(cert.get(), &der);
      if (der_len <= 0) {
        return absl::InternalError(
            absl::StrCat("cannot encode the certificate: ", DrainOpenSslErrors()));
      }
      out.der_.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(der_len));
      OPENSSL_free(der);
      out.key_ = std::shared_ptr<EVP_PKEY>(key.release(), PkeyFree());
      return out;
    }
    ERR_clear_error();
    if (certificates == 0) {
      return absl::InvalidArgumentError(
          "no certificate found: the PEM file must hold the certificate "
          "(\"-----BEGIN CERTIFICATE-----\") next to its private key");
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "none of the ", certificates,
        " certificates in the PEM file matches its private key: put the "
        "certificate uploaded to the app registration together with its own key"));
  }

  // SHA-1 of the DER certificate (20 raw bytes), the "thumbprint" the Azure portal
  // shows in hex.
  const std::string& sha1_thumbprint() const { return thumbprint_; }

  // The thumbprint in upper-case hex, as the portal shows it (for messages).
  std::string ThumbprintHex() const {
    return absl::AsciiStrToUpper(absl::BytesToHexString(thumbprint_));
  }

  // base64url(SHA-1 of the DER certificate): the JWT header's x5t.
  std::string x5t() const { return absl::WebSafeBase64Escape(thumbprint_); }

  // The DER encoding of the certificate.
  const std::string& der() const { return der_; }

  // The private key (shared, never modified).
  EVP_PKEY* key() const { return key_.get(); }

 private:
  ClientCertificate() = default;
  std::shared_ptr<EVP_PKEY> key_;
  std::string thumbprint_;
  std::string der_;
};

// Signs `data` with `certificate`'s key: RSASSA-PKCS1-v1_5 over SHA-256.
// Errors: kInternal if libcrypto fails. Thread-safe.
inline absl::StatusOr<std::string> SignRs256(const ClientCertificate& certificate,
                                             absl::string_view data) {
  using azure_auth_internal::DrainOpenSslErrors;
  azure_auth_internal::MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t sig_len = 0;
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                         certificate.key()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len,
                     reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot sign the client assertion: ", DrainOpenSslErrors()));
  }
  std::string signature(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(&signature[0]),
                     &sig_len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot sign the client assertion: ", DrainOpenSslErrors()));
  }
  signature.resize(sig_len);
  return signature;
}

// Returns a signed JWT client assertion for `client_id`, addressed to `audience` (the
// token endpoint URL), valid from `now` for `lifetime`, with a new random jti.
// Errors: kInvalidArgument for an empty client id or audience; kInternal if
// libcrypto fails. Thread-safe.
inline absl::StatusOr<std::string> BuildClientAssertion(
    const ClientCertificate& certificate, absl::string_view client_id,
    absl::string_view audience, absl::Time now,
    absl::Duration lifetime = kClientAssertionLifetime) {
  if (client_id.empty() || audience.empty()) {
    return absl::InvalidArgumentError(
        "a client assertion needs a client id and an audience (token endpoint URL)");
  }
  absl::StatusOr<std::string> jti = azure_auth_internal::NewGuid();
  if (!jti.ok()) return jti.status();
  int64_t nbf = absl::ToUnixSeconds(now);
  std::string header = azure_auth_internal::JsonObjectWriter()
                           .String("alg", "RS256")
                           .String("typ", "JWT")
                           .String("x5t", certificate.x5t())
                           .Finish();
  std::string claims = azure_auth_internal::JsonObjectWriter()
                           .String("aud", audience)
                           .String("iss", client_id)
                           .String("sub", client_id)
                           .String("jti", *jti)
                           .Int("nbf", nbf)
                           .Int("exp", nbf + absl::ToInt64Seconds(lifetime))
                           .Finish();
  std::string signing_input = absl::StrCat(absl::WebSafeBase64Escape(header), ".",
                                           absl::WebSafeBase64Escape(claims));
  absl::StatusOr<std::string> signature = SignRs256(certificate, signing_input);
  if (!signature.ok()) return signature.status();
  return absl::StrCat(signing_input, ".", absl::WebSafeBase64Escape(*signature));
}

}  // namespace azure_auth

#endif  // AZURE_AUTH_CLIENT_ASSERTION_H_
