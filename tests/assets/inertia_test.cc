#include <catch2/catch.hpp>

#include <numbers>

#include "pf/assets/inertia.h"
#include "pf/assets/library.h"
#include "support/test_support.h"

namespace pf::assets {
namespace {

using core::Mat3;
using core::Vec3;

TEST_CASE("solid box and cylinder inertias match the textbook formulas", "[assets][inertia]") {
  const double m = 3.0;
  const Vec3 size(0.2, 0.4, 0.6);
  const Mat3 I = BoxMoments(size).InertiaAbout(Vec3::Zero(), m);
  CHECK(I(0, 0) == Approx(m / 12 * (0.16 + 0.36)));
  CHECK(I(1, 1) == Approx(m / 12 * (0.04 + 0.36)));
  CHECK(I(2, 2) == Approx(m / 12 * (0.04 + 0.16)));
  const double r = 0.1, h = 0.5;
  const Mat3 C = CylinderMoments(r, h).InertiaAbout(Vec3::Zero(), m);
  CHECK(C(0, 0) == Approx(m * (3 * r * r + h * h) / 12));
  CHECK(C(2, 2) == Approx(m * r * r / 2));
  const Mat3 S = SphereMoments(r).InertiaAbout(Vec3::Zero(), m);
  CHECK(S(1, 1) == Approx(0.4 * m * r * r));
}

TEST_CASE("a capsule of zero length is a sphere, the parallel-axis theorem holds", "[assets][inertia]") {
  const SolidMoments capsule = CapsuleMoments(0.1, 0.0);
  const SolidMoments sphere = SphereMoments(0.1);
  CHECK(capsule.volume == Approx(sphere.volume));
  CHECK((capsule.second - sphere.second).norm() < 1e-15);
  const SolidMoments moved = BoxMoments(Vec3(1, 1, 1)).Transformed(core::MakePose(Vec3(0, 0, 2)));
  CHECK(moved.Centroid().z() == Approx(2.0));
  const Mat3 about_origin = moved.InertiaAbout(Vec3::Zero(), 1.0);
  CHECK(about_origin(0, 0) == Approx(1.0 / 6 + 4.0));
  CHECK(about_origin(2, 2) == Approx(1.0 / 6));
  CHECK(moved.InertiaAbout(moved.Centroid(), 1.0)(0, 0) == Approx(1.0 / 6));
}

TEST_CASE("the moments of a convex hull equal those of the solid it bounds", "[assets][inertia]") {
  std::vector<Eigen::Vector3f> corners;
  for (int i = 0; i < 8; ++i) corners.emplace_back((i & 1) ? 0.3f : -0.1f, (i & 2) ? 0.2f : 0.0f, (i & 4) ? 0.5f : 0.1f);
  const ConvexHull hull = ComputeConvexHull(corners);
  const SolidMoments h = HullMoments(hull);
  const SolidMoments b = BoxMoments(Vec3(0.4, 0.2, 0.4)).Transformed(core::MakePose(Vec3(0.1, 0.1, 0.3)));
  CHECK(h.volume == Approx(b.volume).epsilon(1e-6));
  CHECK((h.first - b.first).norm() < 1e-7);
  CHECK((h.second - b.second).norm() < 1e-7);
}

TEST_CASE("a singular URDF inertia is derived from the collision geometry", "[assets][inertia]") {
  pf::testing::TempDir dir;
  const auto path = dir.Write("r.urdf", R"(<robot name="r"><link name="a">
  <inertial><origin xyz="0 0 0.1"/><mass value="2"/><inertia ixx="1" iyy="1" izz="0"/></inertial>
  <collision><origin xyz="0 0 0.1"/><geometry><box size="0.1 0.2 0.3"/></geometry></collision>
</link></robot>)");
  Warnings warnings;
  AssetLibrary library{AssetResolver()};
  const auto robot = ImportRobot(path.string(), library);
  REQUIRE(robot);
  REQUIRE(robot->warnings.size() == 1);
  CHECK(robot->warnings[0].where.line == 2);
  const Mat3& I = robot->desc.links[0].inertial->I_I;
  CHECK(I(0, 0) == Approx(2.0 / 12 * (0.04 + 0.09)));
  CHECK(I(2, 2) == Approx(2.0 / 12 * (0.01 + 0.04)));
  CHECK(std::abs(I(0, 1)) < 1e-15);
}

TEST_CASE("an inertia derived from overflowing collision geometry is an error", "[assets][inertia]") {
  // Found by tests/fuzz (urdf): the box's volume overflows to inf and the derived inertia
  // was inf/NaN, which the simulator then received.
  pf::testing::TempDir dir;
  const auto path = dir.Write("r.urdf", R"(<robot name="r"><link name="a">
  <inertial><mass value="1"/><inertia ixx="0" iyy="0" izz="0"/></inertial>
  <collision><geometry><box size="1e200 1e200 1e200"/></geometry></collision>
</link></robot>)");
  AssetLibrary library{AssetResolver()};
  const auto robot = ImportRobot(path.string(), library);
  REQUIRE_FALSE(robot);
  CHECK(robot.error().where.file == path.string());
  CHECK(robot.error().where.line == 1);
  CHECK(robot.error().where.field == "link[a].inertial.inertia");
  CHECK_THAT(robot.error().message, Catch::Contains("not finite"));
}

}  // namespace
}  // namespace pf::assets
