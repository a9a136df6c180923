// Deterministic 64-bit hashing of plain bytes: state hashes, scenario hashes, cache keys.
// The value depends only on the bytes fed in, never on addresses or platform word order
// (parafab targets little-endian machines only and checks it at compile time).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace pf::core {

static_assert(std::endian::native == std::endian::little, "parafab assumes little-endian");

class Hasher {
 public:
  explicit Hasher(std::uint64_t seed = 0);

  void Bytes(const void* data, std::size_t size);
  void String(std::string_view s) {
    U64(s.size());
    Bytes(s.data(), s.size());
  }
  void U64(std::uint64_t v) { Bytes(&v, sizeof v); }
  // Doubles are hashed by bit pattern: -0.0 and 0.0 differ, as bitwise determinism wants.
  void F64(double v) { Bytes(&v, sizeof v); }
  template <class T>
    requires std::is_trivially_copyable_v<T>
  void Span(std::span<const T> values) {
    U64(values.size());
    Bytes(values.data(), values.size_bytes());
  }

  std::uint64_t Digest() const;

 private:
  std::uint64_t state_;
  std::uint64_t length_ = 0;
  std::uint64_t pending_ = 0;
  int pending_bytes_ = 0;
};

// 16 lowercase hex digits.
std::string HexU64(std::uint64_t value);

}  // namespace pf::core
