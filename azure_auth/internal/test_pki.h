// File: azure_auth/internal/test_pki.h
//
// Test-only keys and certificates made at run time with libcrypto, and a JWT
// checker that verifies an RS256 signature with a certificate's public key. Nothing
// here is used outside tests; the keys exist only in memory and temp files.
//
// Example:
//   absl::StatusOr<azure_auth_internal::TestCertificate> cert =
//       azure_auth_internal::MakeTestCertificate(2048, "connector-test");
//   absl::StatusOr<azure_auth_internal::DecodedJwt> jwt =
//       azure_auth_internal::VerifyRs256Jwt(assertion, cert->cert_pem);
//   // jwt->header_json, jwt->claims_json
//
// Thread-safe.
#ifndef AZURE_AUTH_INTERNAL_TEST_PKI_H_
#define AZURE_AUTH_INTERNAL_TEST_PKI_H_

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "azure_auth/internal/openssl_util.h"

namespace azure_auth_internal {

struct TestCertificate {
  std::string key_pem;   // PKCS#8 "PRIVATE KEY"
  std::string cert_pem;  // "CERTIFICATE"
  std::string der;       // the certificate, DER
};

inline std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

inline absl::StatusOr<std::string> PrivateKeyPem(EVP_PKEY* key,
                                                 const char* password = nullptr) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  int ok = password == nullptr
               ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                          nullptr, nullptr)
               : PEM_write_bio_PKCS8PrivateKey(bio.get(), key, EVP_aes_256_cbc(),
                                               password, strlen(password),
                                               nullptr, nullptr);
  if (ok != 1) return absl::InternalError("PEM_write_bio_PrivateKey failed");
  return BioContents(bio.get());
}

// A self-signed certificate for a fresh key: RSA of `bits` bits, or an EC P-256 key
// when `bits` is 0.
inline absl::StatusOr<TestCertificate> MakeTestCertificate(int bits,
                                                           absl::string_view cn) {
  PkeyPtr key(bits > 0 ? EVP_RSA_gen(static_cast<unsigned>(bits))
                       : EVP_EC_gen("P-256"));
  if (key == nullptr) return absl::InternalError("key generation failed");
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600L * 24 * 365);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  std::string cn_str(cn);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn_str.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
    return absl::InternalError("X509_sign failed");
  }
  TestCertificate out;
  absl::StatusOr<std::string> key_pem = PrivateKeyPem(key.get());
  if (!key_pem.ok()) return key_pem.status();
  out.key_pem = *key_pem;
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert.get());
  out.cert_pem = BioContents(bio.get());
  unsigned char* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  out.der.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// The PEM text with its private key encrypted under `password`.
inline absl::StatusOr<std::string> EncryptKeyPem(const std::string& key_pem,
                                                 const char* password) {
  BioPtr bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr));
  if (key == nullptr) return absl::InternalError("cannot reread the key");
  return PrivateKeyPem(key.get(), password);
}

struct DecodedJwt {
  std::string header_json;
  std::string claims_json;
};

// Splits `jwt`, base64url-decodes its parts and verifies its RS256 signature with the
// public key of the certificate in `cert_pem` (EVP_DigestVerify).
// Errors: kInvalidArgument describing the first problem found.
inline absl::StatusOr<DecodedJwt> VerifyRs256Jwt(absl::string_view jwt,
                                                 const std::string& cert_pem) {
  std::vector<absl::string_view> parts = absl::StrSplit(jwt, '.');
  if (parts.size() != 3) return absl::InvalidArgumentError("not three JWT parts");
  for (absl::string_view part : parts) {
    if (absl::StrContains(part, "=")) {
      return absl::InvalidArgumentError("base64url padding present");
    }
  }
  DecodedJwt out;
  std::string signature;
  if (!absl::WebSafeBase64Unescape(parts[0], &out.header_json) ||
      !absl::WebSafeBase64Unescape(parts[1], &out.claims_json) ||
      !absl::WebSafeBase64Unescape(parts[2], &signature)) {
    return absl::InvalidArgumentError("a JWT part is not base64url");
  }
  BioPtr bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr));
  if (cert == nullptr) return absl::InvalidArgumentError("no certificate");
  PkeyPtr pub(X509_get_pubkey(cert.get()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string signed_part = absl::StrCat(parts[0], ".", parts[1]);
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pub.get()) != 1 ||
      EVP_DigestVerify(ctx.get(),
                       reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(),
                       reinterpret_cast<const unsigned char*>(signed_part.data()),
                       signed_part.size()) != 1) {
    DrainOpenSslErrors();
    return absl::InvalidArgumentError("RS256 signature does not verify");
  }
  return out;
}

}  // namespace azure_auth_internal

#endif  // AZURE_AUTH_INTERNAL_TEST_PKI_H_
