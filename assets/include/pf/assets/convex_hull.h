// Convex hulls of point clouds, for collision preparation (one hull per part of a mesh).
//
// Quickhull with conflict lists. The hull's combinatorics are decided with exact orientation
// tests (a floating-point filter with an exact fallback), so the result is always a closed,
// consistently oriented triangle mesh: every edge is shared by exactly two triangles, in
// opposite directions, and no triangle is inverted, degenerate or repeated. The tolerance
// below only decides which points are close enough to the hull to be left out.
//
// Deterministic: the same input gives the same output, bit for bit (no randomness, no
// addresses or unordered containers behind any choice).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>

namespace pf::assets {

struct ConvexHull {
  // [num_vertices] the hull's corner points only: a subset of the input, without interior,
  // duplicate, or flat points (within the tolerance of a face or a straight edge); in input
  // order.
  std::vector<Eigen::Vector3f> vertices;
  // [num_triangles × 3] indices into `vertices`, counter-clockwise seen from outside
  // (the right-hand normal points out of the solid). Coplanar faces are triangulated.
  std::vector<std::uint32_t> indices;

  // Centre of mass of the solid hull at uniform density; zero for an empty hull.
  Eigen::Vector3f Centroid() const;
  // Volume of the solid hull (positive for a non-empty hull, 0 for an empty one).
  double Volume() const;
};

struct ConvexHullConfig {
  // Planarity tolerance as a fraction of the input's bounding-box diagonal: points within
  // this distance of the hull are treated as on it (left out), and an input whose points all
  // lie this close to one plane (or line) is degenerate.
  float epsilon_scale = 1e-6f;
  // Vertex budget: 0 = unlimited. Otherwise the hull keeps at most this many vertices:
  // Quickhull adds points farthest-first and stops once the budget is reached, so the result
  // is the hull of a subset that holds the most extreme points. Values 1-3 act as 4, the
  // fewest a solid has.
  std::uint32_t max_vertices = 0;
};

// Convex hull of `points` ([num_points]). Points with a NaN or infinite coordinate are skipped.
// Returns an empty hull (no vertices) when the input has fewer than 4 non-coplanar points
// (degenerate: empty, all coincident, collinear or coplanar within the tolerance); callers
// treat that as an error. With -O2, 50k points take about 10 ms when most lie inside and a few
// hundred ms in the worst case, when every point is a corner (a sampled sphere).
ConvexHull ComputeConvexHull(std::span<const Eigen::Vector3f> points,
                             const ConvexHullConfig& config = {});

}  // namespace pf::assets
