#include "pf/core/hash.h"

#include <cstring>

#include "pf/core/rng.h"

namespace pf::core {
namespace {
constexpr std::uint64_t kMul = 0x9FB21C651E98DF25ull;

inline std::uint64_t Absorb(std::uint64_t state, std::uint64_t word) {
  state ^= Mix64(word);
  state = std::rotl(state, 29) * kMul;
  return state;
}
}  // namespace

Hasher::Hasher(std::uint64_t seed) : state_(Mix64(seed ^ 0x7061726166616221ull)) {}

void Hasher::Bytes(const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  length_ += size;
  while (size > 0 && pending_bytes_ != 0) {
    pending_ |= std::uint64_t{*p++} << (8 * pending_bytes_);
    --size;
    if (++pending_bytes_ == 8) {
      state_ = Absorb(state_, pending_);
      pending_ = 0;
      pending_bytes_ = 0;
    }
  }
  while (size >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    state_ = Absorb(state_, word);
    p += 8;
    size -= 8;
  }
  while (size > 0) {
    pending_ |= std::uint64_t{*p++} << (8 * pending_bytes_);
    ++pending_bytes_;
    --size;
  }
}

std::uint64_t Hasher::Digest() const {
  std::uint64_t s = state_;
  if (pending_bytes_ != 0) s = Absorb(s, pending_ ^ (std::uint64_t{0x80} << (8 * pending_bytes_)));
  return Mix64(s ^ length_);
}

std::string HexU64(std::uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kDigits[value & 0xF];
    value >>= 4;
  }
  return out;
}

}  // namespace pf::core
