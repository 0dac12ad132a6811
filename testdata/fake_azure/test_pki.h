// File: testdata/fake_azure/test_pki.h
//
// Test-only TLS material made at run time with libcrypto: a throw-away certificate
// authority and a server certificate it signed for "localhost" (SAN DNS:localhost,
// IP:127.0.0.1, IP:::1). Nothing is checked in and nothing outlives the test: the keys
// are fresh ECDSA P-256 keys, the certificates are valid from one hour ago for two days.
// Clients that should succeed trust `ca_cert_file`; a client that trusts anything else
// (the system bundle, another TestPki) must fail the handshake.
//
// Example:
//   absl::StatusOr<fake_azure::TestPki> pki = fake_azure::MakeTestPki(dir);
//   if (!pki.ok()) return pki.status();
//   httplib::SSLServer server(pki->server_cert_file.c_str(),
//                             pki->server_key_file.c_str());
//   // client side: CURLOPT_CAINFO = pki->ca_cert_file
//
// Thread-safe (every call makes its own keys and certificates).
#ifndef TESTDATA_FAKE_AZURE_TEST_PKI_H_
#define TESTDATA_FAKE_AZURE_TEST_PKI_H_

#include <sys/stat.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace fake_azure {

// PEM files written by MakeTestPki, and the same PEM text in memory.
struct TestPki {
  std::string ca_cert_file;      // <dir>/ca.pem: what clients trust
  std::string server_cert_file;  // <dir>/server_cert.pem: leaf only
  std::string server_key_file;   // <dir>/server_key.pem: PKCS#8, mode 0600
  std::string ca_cert_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
};

namespace test_pki_internal {

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

inline absl::Status OpenSslError(absl::string_view what) {
  char buffer[256] = {0};
  unsigned long code = ERR_get_error();
  ERR_error_string_n(code, buffer, sizeof(buffer));
  ERR_clear_error();
  return absl::InternalError(
      absl::StrCat("test PKI: ", what, " failed: ", code ? buffer : "no detail"));
}

inline absl::StatusOr<KeyPtr> NewP256Key() {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr);
  if (ctx == nullptr) return OpenSslError("EVP_PKEY_CTX_new_id(EC)");
  EVP_PKEY* key = nullptr;
  bool ok = EVP_PKEY_keygen_init(ctx) == 1 &&
            EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) == 1 &&
            EVP_PKEY_keygen(ctx, &key) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return OpenSslError("P-256 key generation");
  return KeyPtr(key);
}

inline absl::Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid,
                                 const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, ctx, nid, value);
  if (ext == nullptr) return OpenSslError(absl::StrCat("extension ", value));
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return OpenSslError(absl::StrCat("adding extension ", value));
  return absl::OkStatus();
}

// Makes a certificate for `key` named `common_name`, signed by `issuer_key`
// (self-signed when `issuer` is null).
inline absl::StatusOr<X509Ptr> MakeCertificate(EVP_PKEY* key,
                                               const std::string& common_name,
                                               X509* issuer, EVP_PKEY* issuer_key,
                                               bool is_ca) {
  X509Ptr cert(X509_new());
  if (!cert) return OpenSslError("X509_new");
  uint8_t serial_bytes[8];
  if (RAND_bytes(serial_bytes, sizeof(serial_bytes)) != 1) {
    return OpenSslError("RAND_bytes");
  }
  uint64_t serial = 0;
  for (uint8_t b : serial_bytes) serial = (serial << 8) | b;
  serial &= 0x7fffffffffffffffULL;  // positive
  if (X509_set_version(cert.get(), 2) != 1 ||
      ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial | 1) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 2 * 24 * 3600) == nullptr ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return OpenSslError("filling the certificate");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("fake-azure tests"),
                                 -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                 -1, -1, 0) != 1) {
    return OpenSslError("subject name");
  }
  X509* signer = issuer != nullptr ? issuer : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) != 1) {
    return OpenSslError("issuer name");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, signer, cert.get(), nullptr, nullptr, 0);
  absl::Status status;
  if (is_ca) {
    for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                              std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                              std::pair{NID_subject_key_identifier, "hash"}}) {
      status = AddExtension(cert.get(), &ctx, nid, value);
      if (!status.ok()) return status;
    }
  } else {
    for (auto [nid, value] :
         {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
          std::pair{NID_key_usage, "critical,digitalSignature,keyEncipherment"},
          std::pair{NID_ext_key_usage, "serverAuth"},
          std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"},
          std::pair{NID_subject_key_identifier, "hash"},
          std::pair{NID_authority_key_identifier, "keyid:always"}}) {
      status = AddExtension(cert.get(), &ctx, nid, value);
      if (!status.ok()) return status;
    }
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) {
    return OpenSslError("signing the certificate");
  }
  return cert;
}

inline absl::StatusOr<std::string> BioToString(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  if (size < 0) return OpenSslError("reading PEM from memory");
  return std::string(data, static_cast<size_t>(size));
}

inline absl::StatusOr<std::string> CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslError("PEM encoding a certificate");
  }
  return BioToString(bio.get());
}

inline absl::StatusOr<std::string> KeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                       nullptr, nullptr) != 1) {
    return OpenSslError("PEM encoding a private key");
  }
  return BioToString(bio.get());
}

inline absl::Status WriteFile(const std::string& path, const std::string& content,
                              mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) {
      return absl::InternalError(absl::StrCat(
          "test PKI: cannot write ", path, "; check that the directory exists and is writable"));
    }
  }
  if (chmod(path.c_str(), mode) != 0) {
    return absl::InternalError(absl::StrCat("test PKI: cannot chmod ", path));
  }
  return absl::OkStatus();
}

}  // namespace test_pki_internal

// Makes a CA and a localhost server certificate and writes ca.pem, server_cert.pem and
// server_key.pem into `dir` (which must exist).
// Returns the paths and PEM texts. kInternal if libcrypto fails or a file cannot be
// written (the message names the step or the path). Thread-safe.
inline absl::StatusOr<TestPki> MakeTestPki(const std::string& dir) {
  using namespace test_pki_internal;  // NOLINT: this file's own internals
  absl::StatusOr<KeyPtr> ca_key = NewP256Key();
  if (!ca_key.ok()) return ca_key.status();
  absl::StatusOr<KeyPtr> server_key = NewP256Key();
  if (!server_key.ok()) return server_key.status();
  absl::StatusOr<X509Ptr> ca = MakeCertificate(
      ca_key->get(), "fake-azure test CA", nullptr, ca_key->get(), /*is_ca=*/true);
  if (!ca.ok()) return ca.status();
  absl::StatusOr<X509Ptr> leaf = MakeCertificate(
      server_key->get(), "localhost", ca->get(), ca_key->get(), /*is_ca=*/false);
  if (!leaf.ok()) return leaf.status();

  TestPki pki;
  absl::StatusOr<std::string> pem = CertToPem(ca->get());
  if (!pem.ok()) return pem.status();
  pki.ca_cert_pem = *std::move(pem);
  pem = CertToPem(leaf->get());
  if (!pem.ok()) return pem.status();
  pki.server_cert_pem = *std::move(pem);
  pem = KeyToPem(server_key->get());
  if (!pem.ok()) return pem.status();
  pki.server_key_pem = *std::move(pem);

  pki.ca_cert_file = absl::StrCat(dir, "/ca.pem");
  pki.server_cert_file = absl::StrCat(dir, "/server_cert.pem");
  pki.server_key_file = absl::StrCat(dir, "/server_key.pem");
  absl::Status status = WriteFile(pki.ca_cert_file, pki.ca_cert_pem, 0644);
  if (status.ok()) status = WriteFile(pki.server_cert_file, pki.server_cert_pem, 0644);
  if (status.ok()) status = WriteFile(pki.server_key_file, pki.server_key_pem, 0600);
  if (!status.ok()) return status;
  return pki;
}

}  // namespace fake_azure

#endif  // TESTDATA_FAKE_AZURE_TEST_PKI_H_
