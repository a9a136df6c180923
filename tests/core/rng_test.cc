#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <vector>

#include "pf/core/rng.h"

namespace pf::core {
namespace {

// Known-answer vectors of Philox4x32-10 published with Random123 (tests/kat_vectors).
TEST_CASE("Philox4x32-10 matches the Random123 known answers", "[core][rng]") {
  using W = std::array<std::uint32_t, 4>;
  CHECK(Philox4x32({0, 0, 0, 0}, {0, 0}) == W{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(Philox4x32({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}) ==
        W{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(Philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}) ==
        W{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("the same key gives the same stream, any key part changes it", "[core][rng]") {
  const RngKey key{0x1234, 42, 7, RngStream::kPlacement, 3};
  CounterRng a(key), b(key);
  for (int i = 0; i < 100; ++i) REQUIRE(a.NextU32() == b.NextU32());

  auto first = [](RngKey k) { return CounterRng(k).NextU64(); };
  const std::uint64_t base = first(key);
  RngKey k = key;
  k.scenario_hash ^= 1;
  CHECK(first(k) != base);
  k = key;
  k.seed += 1;
  CHECK(first(k) != base);
  k = key;
  k.episode += 1;
  CHECK(first(k) != base);
  k = key;
  k.stream = RngStream::kVisual;
  CHECK(first(k) != base);
  k = key;
  k.substream += 1;
  CHECK(first(k) != base);
}

TEST_CASE("Seek reproduces any position of the stream", "[core][rng]") {
  const RngKey key{1, 2, 3, RngStream::kActions, 0};
  CounterRng rng(key);
  std::vector<std::uint32_t> words(37);
  for (auto& w : words) w = rng.NextU32();
  for (std::uint64_t p : {0u, 1u, 3u, 4u, 5u, 17u, 36u}) {
    CounterRng other(key);
    other.Seek(p);
    CHECK(other.Position() == p);
    CHECK(other.NextU32() == words[p]);
  }
}

TEST_CASE("uniform, integer and normal draws have the right statistics", "[core][rng]") {
  CounterRng rng({9, 9, 9, RngStream::kTest, 0});
  const int n = 200000;
  double sum = 0.0, sum_sq = 0.0;
  std::array<int, 10> bins{};
  for (int i = 0; i < n; ++i) {
    const double u = rng.Uniform01();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    ++bins[static_cast<std::size_t>(u * 10)];
    const double g = rng.Normal();
    sum += g;
    sum_sq += g * g;
  }
  for (int b : bins) CHECK(std::abs(b - n / 10) < 800);  // ~6 sigma
  CHECK(std::abs(sum / n) < 0.01);
  CHECK(std::abs(sum_sq / n - 1.0) < 0.02);
  std::array<int, 7> ints{};
  for (int i = 0; i < 70000; ++i) ++ints[rng.UniformInt(7)];
  for (int c : ints) CHECK(std::abs(c - 10000) < 600);
  const double x = rng.Uniform(-2.0, 5.0);
  CHECK(x >= -2.0);
  CHECK(x < 5.0);
}

}  // namespace
}  // namespace pf::core
