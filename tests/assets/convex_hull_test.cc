#include "pf/assets/convex_hull.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <numbers>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <catch2/catch.hpp>

namespace pf::assets {
namespace {

using Points = std::vector<Eigen::Vector3f>;  // [num_points]

// Small deterministic generator (64-bit LCG, Knuth's MMIX constants), so the tests do not
// depend on the standard library's distributions.
class Lcg {
 public:
  explicit Lcg(std::uint64_t seed) : state_(seed) {}
  // Uniform in [0, 1).
  double Next() {
    state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state_ >> 11) * 0x1.0p-53;
  }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Next(); }

 private:
  std::uint64_t state_;
};

Eigen::Vector3f Point(double x, double y, double z) { return Eigen::Vector3d(x, y, z).cast<float>(); }

Eigen::Vector3f RandomOnSphere(Lcg& rng, double radius) {
  const double z = rng.Uniform(-1.0, 1.0);
  const double phi = rng.Uniform(0.0, 2.0 * std::numbers::pi);
  const double r = std::sqrt(std::max(0.0, 1.0 - z * z));
  return Point(radius * r * std::cos(phi), radius * r * std::sin(phi), radius * z);
}

Eigen::Vector3f RandomInBox(Lcg& rng, const Eigen::Vector3d& lo, const Eigen::Vector3d& hi) {
  const double x = rng.Uniform(lo.x(), hi.x());  // one draw per statement: a fixed order
  const double y = rng.Uniform(lo.y(), hi.y());
  const double z = rng.Uniform(lo.z(), hi.z());
  return Point(x, y, z);
}

Points Corners(const Eigen::Vector3f& lo, const Eigen::Vector3f& hi) {
  Points corners;  // [8]
  for (int i = 0; i < 8; ++i) {
    corners.emplace_back(i & 1 ? hi.x() : lo.x(), i & 2 ? hi.y() : lo.y(), i & 4 ? hi.z() : lo.z());
  }
  return corners;
}

double Diagonal(const Points& points) {
  Eigen::Vector3f lo = Eigen::Vector3f::Constant(std::numeric_limits<float>::max());
  Eigen::Vector3f hi = -lo;
  for (const auto& p : points) {
    if (!p.allFinite()) continue;
    lo = lo.cwiseMin(p);
    hi = hi.cwiseMax(p);
  }
  return (hi - lo).cast<double>().norm();
}

Eigen::Vector3d Vertex(const ConvexHull& hull, std::size_t t, int corner) {
  return hull.vertices[hull.indices[3 * t + corner]].cast<double>();
}

// Unit outward normal of triangle t (right-hand rule).
Eigen::Vector3d FaceNormal(const ConvexHull& hull, std::size_t t) {
  const Eigen::Vector3d a = Vertex(hull, t, 0);
  return (Vertex(hull, t, 1) - a).cross(Vertex(hull, t, 2) - a).normalized();
}

// Largest distance of any finite point above any face plane (<= 0 when all are inside).
double MaxOutside(const ConvexHull& hull, const Points& points) {
  double worst = -std::numeric_limits<double>::infinity();
  const std::size_t num_triangles = hull.indices.size() / 3;
  for (std::size_t t = 0; t < num_triangles; ++t) {
    const Eigen::Vector3d n = FaceNormal(hull, t);
    const Eigen::Vector3d a = Vertex(hull, t, 0);
    for (const auto& p : points) {
      if (!p.allFinite()) continue;
      worst = std::max(worst, n.dot(p.cast<double>() - a));
    }
  }
  return worst;
}

// A closed, consistently oriented 2-manifold of genus 0 with sound triangles and vertices.
void CheckWellFormed(const ConvexHull& hull) {
  REQUIRE(hull.vertices.size() >= 4);
  REQUIRE(hull.indices.size() % 3 == 0);
  const std::size_t num_triangles = hull.indices.size() / 3;
  const std::size_t num_vertices = hull.vertices.size();
  std::map<std::pair<std::uint32_t, std::uint32_t>, int> directed;  // edge -> uses
  std::vector<int> uses(num_vertices, 0);                            // [num_vertices]
  for (std::size_t t = 0; t < num_triangles; ++t) {
    for (int k = 0; k < 3; ++k) {
      const std::uint32_t a = hull.indices[3 * t + k];
      const std::uint32_t b = hull.indices[3 * t + (k + 1) % 3];
      REQUIRE(a < num_vertices);
      REQUIRE(a != b);
      ++directed[{a, b}];
      ++uses[a];
    }
  }
  // Each edge is used once in each direction: shared by exactly two triangles, opposite ways.
  for (const auto& [edge, count] : directed) {
    INFO("edge " << edge.first << "-" << edge.second);
    REQUIRE(count == 1);
    REQUIRE(directed.count({edge.second, edge.first}) == 1);
  }
  const long num_edges = static_cast<long>(directed.size() / 2);
  CHECK(static_cast<long>(num_vertices) - num_edges + static_cast<long>(num_triangles) == 2);
  CHECK(std::all_of(uses.begin(), uses.end(), [](int n) { return n >= 3; }));
  // No duplicate vertices.
  std::vector<std::array<float, 3>> sorted;
  for (const auto& v : hull.vertices) sorted.push_back({v.x(), v.y(), v.z()});
  std::sort(sorted.begin(), sorted.end());
  CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
  // Non-degenerate triangles, normals pointing away from the centroid.
  const Eigen::Vector3d centroid = hull.Centroid().cast<double>();
  for (std::size_t t = 0; t < num_triangles; ++t) {
    const Eigen::Vector3d a = Vertex(hull, t, 0);
    const Eigen::Vector3d b = Vertex(hull, t, 1);
    const Eigen::Vector3d c = Vertex(hull, t, 2);
    const Eigen::Vector3d n = (b - a).cross(c - a);
    REQUIRE(n.norm() > 0.0);
    CHECK(n.dot((a + b + c) / 3.0 - centroid) > 0.0);
  }
  CHECK(hull.Volume() > 0.0);
}

// Every hull vertex is one of the input points.
bool VerticesFromInput(const ConvexHull& hull, const Points& points) {
  return std::all_of(hull.vertices.begin(), hull.vertices.end(), [&](const Eigen::Vector3f& v) {
    return std::find(points.begin(), points.end(), v) != points.end();
  });
}

bool HasVertex(const ConvexHull& hull, const Eigen::Vector3f& p) {
  return std::find(hull.vertices.begin(), hull.vertices.end(), p) != hull.vertices.end();
}

TEST_CASE("convex hull: unit cube with interior points", "[assets][hull]") {
  const Points corners = Corners(Eigen::Vector3f::Zero(), Eigen::Vector3f::Ones());
  Lcg rng(7);
  Points points;
  for (int i = 0; i < 2000; ++i) {
    points.push_back(RandomInBox(rng, Eigen::Vector3d::Constant(0.01), Eigen::Vector3d::Constant(0.99)));
  }
  points.insert(points.end(), corners.begin(), corners.end());  // last, not first

  const ConvexHull hull = ComputeConvexHull(points);
  REQUIRE(hull.vertices.size() == 8);
  REQUIRE(hull.indices.size() == 12 * 3);
  CheckWellFormed(hull);
  for (const auto& corner : corners) CHECK(HasVertex(hull, corner));
  CHECK(hull.Volume() == Approx(1.0).epsilon(1e-9));
  const Eigen::Vector3f centroid = hull.Centroid();
  CHECK(centroid.x() == Approx(0.5f));
  CHECK(centroid.y() == Approx(0.5f));
  CHECK(centroid.z() == Approx(0.5f));
  // Every input point on or inside every face plane; normals outward and axis-aligned.
  CHECK(MaxOutside(hull, points) <= 1e-9);
  for (std::size_t t = 0; t < 12; ++t) {
    const Eigen::Vector3d n = FaceNormal(hull, t);
    CHECK(n.cwiseAbs().maxCoeff() == Approx(1.0));
    CHECK(n.dot(Vertex(hull, t, 0) - Eigen::Vector3d::Constant(0.5)) > 0.0);
  }
}

TEST_CASE("convex hull: points on the faces and edges of a box stay out of the hull", "[assets][hull]") {
  // A 9 × 9 × 9 lattice on the surface of a box: many exactly coplanar and collinear points,
  // with ties for the farthest point. Only the 8 corners are hull vertices.
  const Eigen::Vector3f size(2.0f, 1.0f, 0.5f);
  Points points;
  for (int i = 0; i <= 8; ++i) {
    for (int j = 0; j <= 8; ++j) {
      for (int k = 0; k <= 8; ++k) {
        if (i != 0 && i != 8 && j != 0 && j != 8 && k != 0 && k != 8) continue;
        points.emplace_back(size.x() * i / 8.0f, size.y() * j / 8.0f, size.z() * k / 8.0f);
      }
    }
  }
  const ConvexHull hull = ComputeConvexHull(points);
  REQUIRE(hull.vertices.size() == 8);
  REQUIRE(hull.indices.size() == 12 * 3);
  CheckWellFormed(hull);
  CHECK(hull.Volume() == Approx(1.0).epsilon(1e-6));
  CHECK(MaxOutside(hull, points) <= 1e-6);

  // The same lattice rotated: coplanarity now holds only up to float rounding.
  const Eigen::Matrix3f rotation = (Eigen::AngleAxisf(0.3f, Eigen::Vector3f::UnitZ()) *
                                    Eigen::AngleAxisf(0.7f, Eigen::Vector3f::UnitX()))
                                       .toRotationMatrix();
  Points rotated;
  for (const auto& p : points) rotated.push_back(rotation * p + Eigen::Vector3f(10.0f, -3.0f, 1.0f));
  const ConvexHull rotated_hull = ComputeConvexHull(rotated);
  CHECK(rotated_hull.vertices.size() == 8);
  CheckWellFormed(rotated_hull);
  CHECK(rotated_hull.Volume() == Approx(1.0).epsilon(1e-4));
  CHECK(MaxOutside(rotated_hull, rotated) <= 1e-5 * Diagonal(rotated));
}

TEST_CASE("convex hull: integer lattices keep only their corners", "[assets][hull]") {
  Points cube;          // 11 × 11 × 11 lattice points
  Points octahedron;    // lattice points with |x| + |y| + |z| <= 6
  for (int i = -6; i <= 6; ++i) {
    for (int j = -6; j <= 6; ++j) {
      for (int k = -6; k <= 6; ++k) {
        if (std::abs(i) <= 5 && std::abs(j) <= 5 && std::abs(k) <= 5) cube.push_back(Point(i, j, k));
        if (std::abs(i) + std::abs(j) + std::abs(k) <= 6) octahedron.push_back(Point(i, j, k));
      }
    }
  }
  const ConvexHull cube_hull = ComputeConvexHull(cube);
  CHECK(cube_hull.vertices.size() == 8);
  CheckWellFormed(cube_hull);
  CHECK(cube_hull.Volume() == Approx(1000.0));
  CHECK(MaxOutside(cube_hull, cube) <= 0.0);

  const ConvexHull octahedron_hull = ComputeConvexHull(octahedron);
  CHECK(octahedron_hull.vertices.size() == 6);
  CHECK(octahedron_hull.indices.size() == 8 * 3);
  CheckWellFormed(octahedron_hull);
  CHECK(octahedron_hull.Volume() == Approx(4.0 / 3.0 * 216.0));
  CHECK(MaxOutside(octahedron_hull, octahedron) <= 0.0);
}

TEST_CASE("convex hull: random points on a sphere", "[assets][hull]") {
  Lcg rng(12345);
  Points points;
  for (int i = 0; i < 3000; ++i) points.push_back(RandomOnSphere(rng, 2.0));
  const ConvexHull hull = ComputeConvexHull(points);
  CheckWellFormed(hull);
  CHECK(VerticesFromInput(hull, points));
  // Nearly every point is a corner; the hull is close to the ball's volume.
  CHECK(hull.vertices.size() >= 2990);
  CHECK(hull.indices.size() / 3 == 2 * hull.vertices.size() - 4);
  const double ball = 4.0 / 3.0 * std::numbers::pi * 8.0;
  CHECK(hull.Volume() < ball);
  CHECK(hull.Volume() > 0.99 * ball);
  CHECK(hull.Centroid().norm() < 0.01f);
  CHECK(MaxOutside(hull, points) <= 1e-5 * Diagonal(points));
}

TEST_CASE("convex hull: degenerate inputs give an empty hull", "[assets][hull]") {
  CHECK(ComputeConvexHull({}).vertices.empty());
  CHECK(ComputeConvexHull(Points{{1, 2, 3}}).vertices.empty());
  CHECK(ComputeConvexHull(Points{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}}).vertices.empty());
  CHECK(ComputeConvexHull(Points(100, Eigen::Vector3f(0.25f, -1.0f, 3.0f))).vertices.empty());

  Points square_grid;  // coplanar, in a tilted plane
  for (int i = 0; i < 20; ++i) {
    for (int j = 0; j < 20; ++j) square_grid.push_back(Point(i * 0.1, j * 0.1, 0.05 * i + 2.0));
  }
  CHECK(ComputeConvexHull(square_grid).vertices.empty());

  Points collinear;
  for (int i = 0; i < 50; ++i) collinear.push_back(Point(1.0 + i, 2.0 * i, -0.5 * i));
  CHECK(ComputeConvexHull(collinear).vertices.empty());

  // Flat within the tolerance: 1e-8 of the size out of plane.
  Lcg rng(3);
  Points nearly_flat;
  for (int i = 0; i < 500; ++i) {
    nearly_flat.push_back(RandomInBox(rng, Eigen::Vector3d(-1, -1, -1e-8), Eigen::Vector3d(1, 1, 1e-8)));
  }
  CHECK(ComputeConvexHull(nearly_flat).vertices.empty());

  // Non-finite points are skipped: what is left is a triangle.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const Points with_non_finite = {{0, 0, 0}, {nan, 0, 0}, {1, 0, 0}, {0, 0, inf}, {0, 1, 0}, {0, -inf, 5}};
  CHECK(ComputeConvexHull(with_non_finite).vertices.empty());
}

TEST_CASE("convex hull: non-finite points are skipped", "[assets][hull]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  Points points = Corners(Eigen::Vector3f(-1, -1, -1), Eigen::Vector3f(1, 1, 1));
  points.insert(points.begin() + 3, Eigen::Vector3f(nan, 0, 0));
  points.insert(points.begin() + 5, Eigen::Vector3f(100, inf, 0));
  points.emplace_back(-inf, -inf, -inf);
  points.emplace_back(0.1f, 0.2f, 0.3f);
  const ConvexHull hull = ComputeConvexHull(points);
  REQUIRE(hull.vertices.size() == 8);
  CheckWellFormed(hull);
  CHECK(hull.Volume() == Approx(8.0));
}

TEST_CASE("convex hull: duplicate points", "[assets][hull]") {
  const Points corners = Corners(Eigen::Vector3f(-0.5f, 0, 1), Eigen::Vector3f(0.5f, 3, 2));
  Points points;
  for (int copy = 0; copy < 5; ++copy) {
    for (int i = 0; i < 8; ++i) points.push_back(corners[(3 * i + copy) % 8]);
    points.emplace_back(0.0f, 1.5f, 1.5f);  // the centre, also repeated
  }
  const ConvexHull hull = ComputeConvexHull(points);
  REQUIRE(hull.vertices.size() == 8);
  REQUIRE(hull.indices.size() == 12 * 3);
  CheckWellFormed(hull);
  CHECK(hull.Volume() == Approx(3.0));

  // A tetrahedron given many times over.
  const Points tetra = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  Points repeated;
  for (int i = 0; i < 40; ++i) repeated.push_back(tetra[(i * 7) % 4]);
  const ConvexHull tetra_hull = ComputeConvexHull(repeated);
  REQUIRE(tetra_hull.vertices.size() == 4);
  REQUIRE(tetra_hull.indices.size() == 4 * 3);
  CheckWellFormed(tetra_hull);
  CHECK(tetra_hull.Volume() == Approx(1.0 / 6.0));
}

TEST_CASE("convex hull: a cylinder's coplanar caps are triangulated consistently", "[assets][hull]") {
  Points points;
  const int num_rim = 64;
  for (int i = 0; i < num_rim; ++i) {
    const double angle = 2.0 * std::numbers::pi * i / num_rim;
    points.push_back(Point(std::cos(angle), std::sin(angle), 0.0));
    points.push_back(Point(std::cos(angle), std::sin(angle), 1.0));
    points.push_back(Point(0.5 * std::cos(angle), 0.5 * std::sin(angle), 1.0));  // inside the top cap
  }
  const ConvexHull hull = ComputeConvexHull(points);
  CheckWellFormed(hull);
  CHECK(hull.vertices.size() == 2 * num_rim);
  const double polygon_area = 0.5 * num_rim * std::sin(2.0 * std::numbers::pi / num_rim);
  CHECK(hull.Volume() == Approx(polygon_area).epsilon(1e-5));
  CHECK(MaxOutside(hull, points) <= 1e-6);
}

TEST_CASE("convex hull: nearly degenerate but solid inputs", "[assets][hull]") {
  // A thin slab: 1e-4 of its size thick. Its rim has very sharp edges.
  Lcg rng(99);
  Points slab;
  for (int i = 0; i < 2000; ++i) {
    slab.push_back(RandomInBox(rng, Eigen::Vector3d(-1, -1, -1e-4), Eigen::Vector3d(1, 1, 1e-4)));
  }
  const ConvexHull slab_hull = ComputeConvexHull(slab);
  CheckWellFormed(slab_hull);
  CHECK(MaxOutside(slab_hull, slab) <= 1e-5 * Diagonal(slab));

  // A needle: points along a line, with tiny sideways jitter, far from the origin.
  Points needle;
  for (int i = 0; i < 2000; ++i) {
    const double t = rng.Uniform(0, 1);
    const double y = 500.0 + 2.0 * t + rng.Uniform(-1e-3, 1e-3);
    needle.push_back(Point(1000.0 + t, y, -200.0 + rng.Uniform(-1e-3, 1e-3)));
  }
  const ConvexHull needle_hull = ComputeConvexHull(needle);
  CheckWellFormed(needle_hull);
  CHECK(MaxOutside(needle_hull, needle) <= 1e-5 * Diagonal(needle));

  // Points on a sphere snapped to a coarse grid: many coplanar groups and near-ties.
  Points snapped;
  for (int i = 0; i < 5000; ++i) {
    const Eigen::Vector3f p = RandomOnSphere(rng, 1.0);
    snapped.push_back((p * 16.0f).array().round().matrix() / 16.0f);
  }
  const ConvexHull snapped_hull = ComputeConvexHull(snapped);
  CheckWellFormed(snapped_hull);
  CHECK(VerticesFromInput(snapped_hull, snapped));
  CHECK(MaxOutside(snapped_hull, snapped) <= 1e-5 * Diagonal(snapped));

  // A coarser tolerance leaves out more points but keeps everything within it.
  ConvexHullConfig coarse;
  coarse.epsilon_scale = 1e-2f;
  const ConvexHull coarse_hull = ComputeConvexHull(snapped, coarse);
  CheckWellFormed(coarse_hull);
  CHECK(coarse_hull.vertices.size() < snapped_hull.vertices.size());
  CHECK(MaxOutside(coarse_hull, snapped) <= 4e-2 * Diagonal(snapped));
}

TEST_CASE("convex hull: max_vertices keeps the most extreme points", "[assets][hull]") {
  const Points corners = Corners(Eigen::Vector3f(-1, 0, 0), Eigen::Vector3f(2, 1, 3));
  Lcg rng(5);
  Points points;
  for (int i = 0; i < 5000; ++i) {
    points.push_back(RandomInBox(rng, Eigen::Vector3d(-0.99, 0.01, 0.01), Eigen::Vector3d(1.99, 0.99, 2.99)));
    if (i % 625 == 0) points.push_back(corners[i / 625]);
  }
  REQUIRE(points.size() == 5008);

  ConvexHullConfig config;
  config.max_vertices = 8;
  const ConvexHull hull = ComputeConvexHull(points, config);
  REQUIRE(hull.vertices.size() == 8);
  CheckWellFormed(hull);
  for (const auto& corner : corners) CHECK(HasVertex(hull, corner));
  CHECK(MaxOutside(hull, points) <= 1e-9);

  // A sphere cut down to a budget: a valid hull of a subset, within the budget.
  Points sphere;
  for (int i = 0; i < 4000; ++i) sphere.push_back(RandomOnSphere(rng, 1.0));
  for (const std::uint32_t budget : {4u, 5u, 12u, 32u, 100u}) {
    INFO("budget " << budget);
    config.max_vertices = budget;
    const ConvexHull small = ComputeConvexHull(sphere, config);
    CheckWellFormed(small);
    CHECK(small.vertices.size() <= budget);
    CHECK(VerticesFromInput(small, sphere));
  }
  config.max_vertices = 100;
  CHECK(ComputeConvexHull(sphere, config).Volume() > 0.85 * 4.0 / 3.0 * std::numbers::pi);
  config.max_vertices = 2;  // fewer than a solid needs: acts as 4
  CHECK(ComputeConvexHull(sphere, config).vertices.size() == 4);
}

TEST_CASE("convex hull: large inputs finish quickly and deterministically", "[assets][hull]") {
  Lcg rng(2024);
  Points sphere;  // every point on the hull: the costliest case
  for (int i = 0; i < 50000; ++i) sphere.push_back(RandomOnSphere(rng, 0.3));
  Points ball;
  for (int i = 0; i < 50000; ++i) {
    const Eigen::Vector3f direction = RandomOnSphere(rng, 1.0);
    ball.push_back(direction * static_cast<float>(std::cbrt(rng.Next())));
  }

  // Speed is measured by benchmarks, not asserted here; CTest's timeout catches a blow-up.
  const ConvexHull sphere_hull = ComputeConvexHull(sphere);
  const ConvexHull ball_hull = ComputeConvexHull(ball);

  CheckWellFormed(sphere_hull);
  CHECK(sphere_hull.vertices.size() > 49000);
  const Points sphere_sample(sphere.begin(), sphere.begin() + 1000);
  CHECK(MaxOutside(sphere_hull, sphere_sample) <= 1e-5 * Diagonal(sphere));
  CheckWellFormed(ball_hull);
  const Points ball_sample(ball.begin(), ball.begin() + 10000);
  CHECK(MaxOutside(ball_hull, ball_sample) <= 1e-5 * Diagonal(ball));

  const ConvexHull again = ComputeConvexHull(ball);
  CHECK(again.vertices == ball_hull.vertices);
  CHECK(again.indices == ball_hull.indices);
}

}  // namespace
}  // namespace pf::assets
