#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "pf/core/hash.h"

namespace pf::core {
namespace {

TEST_CASE("hashing is a function of the bytes, not of how they are fed", "[core][hash]") {
  const std::vector<double> values{1.0, -0.0, 3.5, 1e-300};
  Hasher whole;
  whole.Bytes(values.data(), values.size() * sizeof(double));
  Hasher pieces;
  const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
  pieces.Bytes(bytes, 3);
  pieces.Bytes(bytes + 3, 10);
  pieces.Bytes(bytes + 13, values.size() * sizeof(double) - 13);
  CHECK(whole.Digest() == pieces.Digest());
}

TEST_CASE("hashes tell apart nearby inputs", "[core][hash]") {
  auto hash_of = [](double v) {
    Hasher h;
    h.F64(v);
    return h.Digest();
  };
  CHECK(hash_of(0.0) != hash_of(-0.0));
  CHECK(hash_of(1.0) != hash_of(std::nextafter(1.0, 2.0)));
  Hasher a, b;
  a.String("ab");
  a.String("c");
  b.String("a");
  b.String("bc");
  CHECK(a.Digest() != b.Digest());
  Hasher empty, zero;
  zero.Bytes("\0", 1);
  CHECK(empty.Digest() != zero.Digest());
  CHECK(Hasher(1).Digest() != Hasher(2).Digest());
}

TEST_CASE("hex formatting", "[core][hash]") {
  CHECK(HexU64(0) == "0000000000000000");
  CHECK(HexU64(0xdeadbeef01234567ull) == "deadbeef01234567");
}

}  // namespace
}  // namespace pf::core
