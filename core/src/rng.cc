#include "pf/core/rng.h"

#include <cmath>
#include <numbers>

namespace pf::core {
namespace {

constexpr std::uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr std::uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr std::uint32_t kPhiloxW0 = 0x9E3779B9u;  // golden ratio
constexpr std::uint32_t kPhiloxW1 = 0xBB67AE85u;  // sqrt(3) - 1

inline void MulHiLo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi, std::uint32_t& lo) {
  const std::uint64_t product = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(product >> 32);
  lo = static_cast<std::uint32_t>(product);
}

}  // namespace

std::array<std::uint32_t, 4> Philox4x32(std::array<std::uint32_t, 4> c,
                                        std::array<std::uint32_t, 2> k) {
  for (int round = 0; round < 10; ++round) {
    std::uint32_t hi0, lo0, hi1, lo1;
    MulHiLo(kPhiloxM0, c[0], hi0, lo0);
    MulHiLo(kPhiloxM1, c[2], hi1, lo1);
    c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
    k[0] += kPhiloxW0;
    k[1] += kPhiloxW1;
  }
  return c;
}

std::uint64_t Mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

CounterRng::CounterRng(const RngKey& key) {
  const std::uint64_t k = Mix64(Mix64(key.scenario_hash) ^ key.seed);
  key_ = {static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(k >> 32)};
  std::uint64_t s = Mix64(key.episode);
  s = Mix64(s ^ static_cast<std::uint64_t>(key.stream));
  s = Mix64(s ^ key.substream);
  stream_word_ = s;
}

void CounterRng::Refill() {
  buffer_ = Philox4x32({static_cast<std::uint32_t>(block_), static_cast<std::uint32_t>(block_ >> 32),
                        static_cast<std::uint32_t>(stream_word_),
                        static_cast<std::uint32_t>(stream_word_ >> 32)},
                       key_);
  word_ = 0;
}

std::uint32_t CounterRng::NextU32() {
  if (word_ == 4) Refill();
  const std::uint32_t out = buffer_[word_++];
  if (word_ == 4) ++block_;
  return out;
}

std::uint64_t CounterRng::NextU64() {
  const std::uint64_t lo = NextU32();
  const std::uint64_t hi = NextU32();
  return lo | (hi << 32);
}

double CounterRng::Uniform01() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }

double CounterRng::Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform01(); }

std::uint64_t CounterRng::UniformInt(std::uint64_t n) {
  // Lemire-free simple rejection: accept values below the largest multiple of n.
  const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);
  std::uint64_t x;
  do {
    x = NextU64();
  } while (x >= limit);
  return x % n;
}

double CounterRng::Normal() {
  // 1 - U in (0, 1] keeps the logarithm finite.
  const double u1 = 1.0 - Uniform01();
  const double u2 = Uniform01();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

void CounterRng::Seek(std::uint64_t position) {
  block_ = position / 4;
  word_ = 4;
  const std::uint32_t skip = static_cast<std::uint32_t>(position % 4);
  if (skip != 0) {
    Refill();
    word_ = skip;
  }
}

}  // namespace pf::core
