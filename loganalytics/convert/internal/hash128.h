// File: loganalytics/convert/internal/hash128.h
//
// A stable 128-bit hash for Log ids: MurmurHash3_x64_128 (Austin Appleby's public
// domain algorithm), fed incrementally. Unlike absl::Hash, its output is fixed by the
// algorithm: the same bytes give the same 128 bits in every process, build and
// version, which is what makes a re-read record get the same Log.id. It is not a
// cryptographic hash: ids are for recognising repeats, not for authentication.
// hash128_test.cc pins reference values.
//
// Example:
//   internal_convert::Murmur3Hasher hasher;
//   hasher.UpdateField("workspace-id");
//   hasher.UpdateField("SigninLogs");
//   std::string id = internal_convert::FormatUuid(hasher.Finish());
//   // "3f2a...-....-8...-[89ab]...-............" (version 8, RFC 9562 variant)
//
// Murmur3Hasher is not thread-safe (one per thread); the functions are stateless.
#ifndef LOGANALYTICS_CONVERT_INTERNAL_HASH128_H_
#define LOGANALYTICS_CONVERT_INTERNAL_HASH128_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"

namespace loganalytics {
namespace internal_convert {

struct Hash128 {
  uint64_t h1 = 0;
  uint64_t h2 = 0;
};

// MurmurHash3_x64_128 over bytes given in any number of Update calls; the result
// equals the one-shot hash of their concatenation.
class Murmur3Hasher {
 public:
  explicit Murmur3Hasher(uint32_t seed = 0) : h1_(seed), h2_(seed) {}

  void Update(const void* data, size_t size) {
    const unsigned char* p = static_cast<const unsigned char*>(data);
    length_ += size;
    if (buffered_ > 0) {
      const size_t take = size < 16 - buffered_ ? size : 16 - buffered_;
      std::memcpy(buffer_ + buffered_, p, take);
      buffered_ += take;
      p += take;
      size -= take;
      if (buffered_ < 16) return;
      Block(buffer_);
      buffered_ = 0;
    }
    while (size >= 16) {
      Block(p);
      p += 16;
      size -= 16;
    }
    std::memcpy(buffer_, p, size);
    buffered_ = size;
  }
  void Update(absl::string_view bytes) { Update(bytes.data(), bytes.size()); }

  // Hashes `bytes` preceded by its length, so that a sequence of fields cannot be
  // confused with another sequence whose concatenation is the same.
  void UpdateField(absl::string_view bytes) {
    unsigned char size[8];
    uint64_t n = bytes.size();
    for (int i = 0; i < 8; ++i) size[i] = static_cast<unsigned char>(n >> (8 * i));
    Update(size, sizeof(size));
    Update(bytes);
  }

  // Returns the hash of everything given so far. The hasher must not be used after.
  Hash128 Finish() {
    uint64_t k1 = 0, k2 = 0;
    const unsigned char* tail = buffer_;
    switch (buffered_) {
      case 15: k2 ^= static_cast<uint64_t>(tail[14]) << 48; [[fallthrough]];
      case 14: k2 ^= static_cast<uint64_t>(tail[13]) << 40; [[fallthrough]];
      case 13: k2 ^= static_cast<uint64_t>(tail[12]) << 32; [[fallthrough]];
      case 12: k2 ^= static_cast<uint64_t>(tail[11]) << 24; [[fallthrough]];
      case 11: k2 ^= static_cast<uint64_t>(tail[10]) << 16; [[fallthrough]];
      case 10: k2 ^= static_cast<uint64_t>(tail[9]) << 8; [[fallthrough]];
      case 9:
        k2 ^= static_cast<uint64_t>(tail[8]);
        k2 *= kC2;
        k2 = Rotl(k2, 33);
        k2 *= kC1;
        h2_ ^= k2;
        [[fallthrough]];
      case 8: k1 ^= static_cast<uint64_t>(tail[7]) << 56; [[fallthrough]];
      case 7: k1 ^= static_cast<uint64_t>(tail[6]) << 48; [[fallthrough]];
      case 6: k1 ^= static_cast<uint64_t>(tail[5]) << 40; [[fallthrough]];
      case 5: k1 ^= static_cast<uint64_t>(tail[4]) << 32; [[fallthrough]];
      case 4: k1 ^= static_cast<uint64_t>(tail[3]) << 24; [[fallthrough]];
      case 3: k1 ^= static_cast<uint64_t>(tail[2]) << 16; [[fallthrough]];
      case 2: k1 ^= static_cast<uint64_t>(tail[1]) << 8; [[fallthrough]];
      case 1:
        k1 ^= static_cast<uint64_t>(tail[0]);
        k1 *= kC1;
        k1 = Rotl(k1, 31);
        k1 *= kC2;
        h1_ ^= k1;
        break;
      default:
        break;
    }
    h1_ ^= length_;
    h2_ ^= length_;
    h1_ += h2_;
    h2_ += h1_;
    h1_ = Mix(h1_);
    h2_ = Mix(h2_);
    h1_ += h2_;
    h2_ += h1_;
    return Hash128{h1_, h2_};
  }

 private:
  static constexpr uint64_t kC1 = 0x87c37b91114253d5ULL;
  static constexpr uint64_t kC2 = 0x4cf5ad432745937fULL;

  static uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
  // Reads 8 bytes as a little-endian integer, whatever the host's byte order.
  static uint64_t Load64(const unsigned char* p) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
#else
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
#endif
  }
  static uint64_t Mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
  }
  void Block(const unsigned char* p) {
    uint64_t k1 = Load64(p);
    uint64_t k2 = Load64(p + 8);
    k1 *= kC1;
    k1 = Rotl(k1, 31);
    k1 *= kC2;
    h1_ ^= k1;
    h1_ = Rotl(h1_, 27);
    h1_ += h2_;
    h1_ = h1_ * 5 + 0x52dce729;
    k2 *= kC2;
    k2 = Rotl(k2, 33);
    k2 *= kC1;
    h2_ ^= k2;
    h2_ = Rotl(h2_, 31);
    h2_ += h1_;
    h2_ = h2_ * 5 + 0x38495ab5;
  }

  uint64_t h1_;
  uint64_t h2_;
  uint64_t length_ = 0;
  unsigned char buffer_[16];
  size_t buffered_ = 0;
};

// Formats `hash` as a UUID string (36 characters, lower-case hex): the 16 bytes are
// h1 then h2, big-endian, with the version nibble set to 8 (custom, RFC 9562) and the
// variant bits to 10.
inline void FormatUuid(const Hash128& hash, char out[36]) {
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned char bytes[16];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<unsigned char>(hash.h1 >> (56 - 8 * i));
    bytes[8 + i] = static_cast<unsigned char>(hash.h2 >> (56 - 8 * i));
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x80);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);
  int o = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = kHex[bytes[i] >> 4];
    out[o++] = kHex[bytes[i] & 0xF];
  }
}

inline std::string FormatUuid(const Hash128& hash) {
  std::string out(36, '\0');
  FormatUuid(hash, &out[0]);
  return out;
}

}  // namespace internal_convert
}  // namespace loganalytics

#endif  // LOGANALYTICS_CONVERT_INTERNAL_HASH128_H_
