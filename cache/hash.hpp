// 128-bit digests (xxHash XXH3-128) for cache keys and cubin checksums.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace jit::cache {

struct Digest {
  std::uint64_t hi = 0, lo = 0;
  bool operator==(const Digest&) const = default;
  std::string hex() const;  // 32 lowercase hex digits
  static bool parse(std::string_view hex, Digest* out);
};

Digest digest_bytes(const void* data, std::size_t size);
inline Digest digest_bytes(std::string_view s) { return digest_bytes(s.data(), s.size()); }

// Streaming digest of a sequence of fields. Each field is length-prefixed, so ("ab","c") and
// ("a","bc") differ.
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  Hasher& field(std::string_view bytes);
  Hasher& field(std::uint64_t v);
  Digest digest() const;

 private:
  void* state_;
};

}  // namespace jit::cache
