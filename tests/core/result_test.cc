#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "pf/core/result.h"
#include "pf/core/str.h"

namespace pf::core {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Fail("odd value", {"in.txt", 3, 7, "value"});
  return x / 2;
}

Result<int> Quarter(int x) {
  PF_ASSIGN_OR_RETURN(int half, Half(x));
  PF_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckEven(int x) {
  PF_TRY(Half(x));
  return Ok();
}

TEST_CASE("errors name file, line, column and field", "[core]") {
  const auto r = Half(3);
  REQUIRE_FALSE(r);
  CHECK(r.error().ToString() == "in.txt:3:7: value: odd value");
  CHECK(Error{"m", {"f", 0, 0, ""}}.ToString() == "f: m");
  CHECK(Error{"m", {"f", 4, 0, "x"}}.ToString() == "f:4: x: m");
  CHECK(Error{"m", {}}.ToString() == "m");
}

TEST_CASE("PF_ASSIGN_OR_RETURN and PF_TRY propagate the first error", "[core]") {
  CHECK(Quarter(8).value() == 2);
  REQUIRE_FALSE(Quarter(6));
  CHECK(Quarter(6).error().message == "odd value");
  CHECK(CheckEven(4));
  CHECK_FALSE(CheckEven(5));
}

}  // namespace
}  // namespace pf::core

namespace pf::core {
namespace {

TEST_CASE("Join and StrCat", "[core]") {
  CHECK(Join(std::vector<std::string>{"a", "b", "c"}, ", ") == "a, b, c");
  CHECK(Join(std::vector<std::string_view>{}, ", ").empty());
  CHECK(StrCat("x", 1, ' ', 2.5) == "x1 2.5");
}

}  // namespace
}  // namespace pf::core
