// Quickhull in 3D with conflict lists and exact orientation tests.
//
// Outline:
//   1. Skip non-finite points; tolerance eps = epsilon_scale × bounding-box diagonal.
//   2. Initial tetrahedron from extreme points; degenerate input (no tetrahedron taller than
//      eps) gives an empty hull.
//   3. Every other point goes to the conflict list of the face it lies farthest above; points
//      inside the hull or within eps of it are dropped.
//   4. Repeatedly take the point farthest above its face over all faces (a max-heap), find the
//      faces it sees, and replace them with a fan from the point to the horizon; the points of
//      the removed faces are reassigned to the new faces.
//   5. Vertices that ended up on a flat face or a straight edge within eps (possible when
//      several points are about equally far) are removed and the hull rebuilt from the rest.
//   Points are processed in Morton order for cache locality; the output lists vertices in
//   input order.
//
// Robustness: "face f is visible from point p" is the sign of orient3d, decided by a floating-
// point filter and, when the filter cannot tell, by exact expansion arithmetic on the input
// floats. The hull built so far is therefore exactly the convex hull of the points added, the
// visible region of each new point is a topological disc, and the mesh stays a closed
// manifold with no inverted or degenerate triangle. The tolerance eps only decides which points
// are dropped. Face normals use Kahan's fused difference of products, accurate even for
// sliver triangles, so distances to faces are accurate to about 1e-15 of the hull's size.
#include "pf/assets/convex_hull.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <queue>
#include <span>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#if defined(__FAST_MATH__)
#error "convex_hull.cc relies on IEEE rounding (exact predicates): build it without -ffast-math"
#endif

namespace pf::assets {
namespace {

using Vec3d = Eigen::Vector3d;
using Triangle = std::array<std::uint32_t, 3>;

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
// Relative bound on the error of the filtered orientation test (about 1000 units in the last
// place of a double; the actual error is below 10).
constexpr double kOrientFilterError = 1e-13;
// Smallest tolerance as a fraction of the coordinates' magnitude, well above double rounding.
constexpr double kMinRelativeEps = 1e-12;
// Rounds of removing flat vertices and rebuilding; each round moves the hull by at most eps.
constexpr int kMaxCleanupRounds = 3;
// Vertices with more neighbours than this skip the (quadratic) straight-edge test.
constexpr std::size_t kMaxEdgeTestRing = 64;

// ---------------------------------------------------------------------------------------------
// Exact arithmetic.

// s + e == a + b exactly, with s = fl(a + b) (Knuth's two-sum; needs round-to-nearest).
inline void TwoSum(double a, double b, double& s, double& e) {
  s = a + b;
  const double b_virtual = s - a;
  const double a_virtual = s - b_virtual;
  e = (a - a_virtual) + (b - b_virtual);
}

// a * b - c * d with a relative error of about one rounding (Kahan's algorithm with fma).
inline double DiffOfProducts(double a, double b, double c, double d) {
  const double w = c * d;
  const double rounding = std::fma(-c, d, w);  // w - c * d, exactly
  const double f = std::fma(a, b, -w);
  return f + rounding;
}

// u × v, each component accurate to about one rounding of its own value.
inline Vec3d AccurateCross(const Vec3d& u, const Vec3d& v) {
  return Vec3d(DiffOfProducts(u.y(), v.z(), u.z(), v.y()), DiffOfProducts(u.z(), v.x(), u.x(), v.z()),
               DiffOfProducts(u.x(), v.y(), u.y(), v.x()));
}

// Sign of det[b - a; c - a; d - a] (positive when d is on the side the right-hand normal of
// triangle a, b, c points to), computed exactly. Every coordinate must be a float widened to
// double: then x * y is exact, x * y * z is an exact two-term sum (fma), and the 24 signed
// triple products of the expanded determinant are summed exactly as a floating-point expansion.
int ExactOrientSign(const Vec3d& a, const Vec3d& b, const Vec3d& c, const Vec3d& d) {
  std::array<double, 48> terms;  // [24 triple products × 2] exact hi and lo parts
  std::size_t num_terms = 0;
  const auto add_triple = [&](double sign, double x, double y, double z) {
    const double xy = x * y;
    const double hi = xy * z;
    const double lo = std::fma(xy, z, -hi);
    terms[num_terms++] = sign * hi;
    terms[num_terms++] = sign * lo;
  };
  // det of the rows p, q, r, times `sign`.
  const auto add_det = [&](double sign, const Vec3d& p, const Vec3d& q, const Vec3d& r) {
    add_triple(sign, p.x(), q.y(), r.z());
    add_triple(-sign, p.x(), q.z(), r.y());
    add_triple(-sign, p.y(), q.x(), r.z());
    add_triple(sign, p.y(), q.z(), r.x());
    add_triple(sign, p.z(), q.x(), r.y());
    add_triple(-sign, p.z(), q.y(), r.x());
  };
  // det[b - a; c - a; d - a] = det[b; c; d] - det[a; c; d] + det[a; b; d] - det[a; b; c].
  add_det(1.0, b, c, d);
  add_det(-1.0, a, c, d);
  add_det(1.0, a, b, d);
  add_det(-1.0, a, b, c);

  // Grow a nonoverlapping expansion (components in increasing magnitude, zeros dropped).
  std::array<double, 49> expansion;  // [num_components]
  std::size_t num_components = 0;
  for (std::size_t t = 0; t < num_terms; ++t) {
    double q = terms[t];
    std::size_t out = 0;
    for (std::size_t i = 0; i < num_components; ++i) {
      double sum = 0.0;
      double err = 0.0;
      TwoSum(q, expansion[i], sum, err);
      if (err != 0.0) expansion[out++] = err;
      q = sum;
    }
    if (q != 0.0) expansion[out++] = q;
    num_components = out;
  }
  if (num_components == 0) return 0;
  return expansion[num_components - 1] > 0.0 ? 1 : -1;
}

// Distance from q to the closest point of triangle a, b, c with unit normal n.
double PointTriangleDistance(const Vec3d& q, const Vec3d& a, const Vec3d& b, const Vec3d& c, const Vec3d& n) {
  const bool inside = n.dot((b - a).cross(q - a)) >= 0.0 && n.dot((c - b).cross(q - b)) >= 0.0 &&
                      n.dot((a - c).cross(q - c)) >= 0.0;
  if (inside) return std::abs(n.dot(q - a));
  const auto segment_distance = [&q](const Vec3d& from, const Vec3d& to) {
    const Vec3d along = to - from;
    const double length2 = along.squaredNorm();
    const double t = length2 > 0.0 ? std::clamp((q - from).dot(along) / length2, 0.0, 1.0) : 0.0;
    return (q - from - t * along).norm();
  };
  return std::min({segment_distance(a, b), segment_distance(b, c), segment_distance(c, a)});
}

// ---------------------------------------------------------------------------------------------
// Quickhull.

struct Face {
  Triangle v{};                        // point indices, counter-clockwise seen from outside
  std::array<std::uint32_t, 3> adj{};  // adj[i]: the face across edge (v[i], v[(i + 1) % 3])
  Vec3d unit_normal = Vec3d::Zero();   // of (p1 - p0) × (p2 - p0)
  double offset = 0.0;                 // unit_normal · p0
  double filter_scale = 0.0;           // error bound of unit_normal · q - offset, per (|q|₁ + magnitude)
  double magnitude = 0.0;              // |p0|₁
  std::uint32_t conflict_head = kNone; // first point of its conflict list (linked by next_conflict_)
  std::uint32_t far_point = kNone;     // the point to add next from this face
  std::uint32_t serial = 0;            // creation number, tells reused slots apart
  std::uint32_t visited = 0;           // search stamp
  std::uint32_t visible = 0;           // search stamp when seen from the current point
  bool alive = false;
};

struct HeapEntry {
  double distance = 0.0;
  std::uint32_t serial = 0;
  std::uint32_t face = kNone;
};

// Max-heap order: larger distance first, then the older face.
struct HeapBelow {
  bool operator()(const HeapEntry& a, const HeapEntry& b) const {
    if (a.distance != b.distance) return a.distance < b.distance;
    return a.serial > b.serial;
  }
};

// A new face's plane, packed for reassigning points.
struct Plane {
  Vec3d unit_normal;
  double offset = 0.0;
  std::uint32_t face = kNone;
};

class HullBuilder {
 public:
  HullBuilder(const std::vector<Vec3d>& points, double eps)
      : points_(points),
        eps_(eps),
        point_distance_(points.size(), 0.0),
        next_conflict_(points.size(), kNone),
        vertex_next_(points.size(), kNone),
        vertex_mark_(points.size(), 0) {}

  // Hull of points_[subset] as triangles of point indices, or empty when degenerate. Stops
  // adding points once the hull has max_vertices vertices (0 = no limit).
  std::vector<Triangle> Build(std::span<const std::uint32_t> subset, std::uint32_t max_vertices) {
    faces_.clear();
    free_faces_.clear();
    heap_ = {};
    std::array<std::uint32_t, 4> simplex{};  // [4] point indices
    if (!InitialSimplex(subset, simplex)) return {};
    const auto [a, b, c, d] = simplex;
    const std::array<std::uint32_t, 4> first = {NewFace(a, b, c), NewFace(a, d, b), NewFace(b, d, c),
                                                NewFace(c, d, a)};
    LinkFaces(first);
    num_vertices_ = 4;

    planes_.clear();
    for (const std::uint32_t f : first) planes_.push_back({faces_[f].unit_normal, faces_[f].offset, f});
    for (const std::uint32_t q : subset) {
      if (q == a || q == b || q == c || q == d) continue;
      AssignToFarthest(q);
    }
    for (const std::uint32_t f : first) Finalize(f);

    while (!heap_.empty()) {
      const HeapEntry top = heap_.top();
      heap_.pop();
      const Face& face = faces_[top.face];
      if (!face.alive || face.serial != top.serial || face.far_point == kNone) continue;
      if (max_vertices != 0 && num_vertices_ >= max_vertices) break;
      AddPoint(face.far_point, top.face);
    }

    std::vector<Triangle> triangles;  // [num_triangles]
    for (const Face& face : faces_) {
      if (face.alive) triangles.push_back(face.v);
    }
    return triangles;
  }

 private:
  const Vec3d& P(std::uint32_t i) const { return points_[i]; }

  // Exact sign of orient3d(face, q): > 0 when q is strictly above the face's plane.
  int Side(const Face& f, std::uint32_t q) const {
    const Vec3d& p = P(q);
    const double distance = f.unit_normal.dot(p) - f.offset;
    const double bound = f.filter_scale * (p.cwiseAbs().sum() + f.magnitude);
    if (distance > bound) return 1;
    if (distance < -bound) return -1;
    return ExactOrientSign(P(f.v[0]), P(f.v[1]), P(f.v[2]), p);
  }

  // Picks the first two, three and four points of the hull; false when the subset is
  // collinear or coplanar within eps.
  bool InitialSimplex(std::span<const std::uint32_t> subset, std::array<std::uint32_t, 4>& simplex) const {
    if (subset.size() < 4) return false;
    // Lexicographic extremes along each axis: always vertices of the hull, even with ties.
    std::array<std::uint32_t, 6> extremes{};  // [3 axes × (min, max)] point indices
    for (int axis = 0; axis < 3; ++axis) {
      const auto less = [&](std::uint32_t i, std::uint32_t j) {
        for (int k = 0; k < 3; ++k) {
          const int c = (axis + k) % 3;
          if (P(i)[c] != P(j)[c]) return P(i)[c] < P(j)[c];
        }
        return false;
      };
      std::uint32_t lo = subset[0];
      std::uint32_t hi = subset[0];
      for (const std::uint32_t q : subset) {
        if (less(q, lo)) lo = q;
        if (less(hi, q)) hi = q;
      }
      extremes[2 * axis] = lo;
      extremes[2 * axis + 1] = hi;
    }
    double best = -1.0;
    for (int i = 0; i < 6; ++i) {
      for (int j = i + 1; j < 6; ++j) {
        const double d2 = (P(extremes[i]) - P(extremes[j])).squaredNorm();
        if (d2 > best) {
          best = d2;
          simplex[0] = extremes[i];
          simplex[1] = extremes[j];
        }
      }
    }
    if (!(std::sqrt(best) > eps_)) return false;  // all points coincide within eps
    const Vec3d& a = P(simplex[0]);
    const Vec3d& b = P(simplex[1]);

    // Farthest from the line a-b; among near-ties, the one farthest from the segment's middle.
    const Vec3d dir = (b - a).normalized();
    const auto line_distance = [&](std::uint32_t q) { return AccurateCross(P(q) - a, dir).norm(); };
    double max_line = 0.0;
    for (const std::uint32_t q : subset) max_line = std::max(max_line, line_distance(q));
    if (!(max_line > eps_)) return false;  // collinear
    simplex[2] = PickAmongNearTies(subset, line_distance, max_line, 0.5 * (a + b));
    const Vec3d& c = P(simplex[2]);

    // Farthest from the plane a, b, c.
    const Vec3d normal = AccurateCross(b - a, c - a).normalized();
    const auto plane_distance = [&](std::uint32_t q) { return std::abs(normal.dot(P(q) - a)); };
    double max_plane = 0.0;
    for (const std::uint32_t q : subset) max_plane = std::max(max_plane, plane_distance(q));
    if (!(max_plane > eps_)) return false;  // coplanar
    simplex[3] = PickAmongNearTies(subset, plane_distance, max_plane, (a + b + c) / 3.0);

    // Orient a, b, c so that d is below it.
    if (normal.dot(P(simplex[3]) - a) > 0.0) std::swap(simplex[1], simplex[2]);
    return true;
  }

  // Of the points scoring within eps of `max_score` (and above eps), the one farthest from
  // `centre`: on a tied edge or face that is one of its corners, not a point inside it.
  template <typename Score>
  std::uint32_t PickAmongNearTies(std::span<const std::uint32_t> candidates, const Score& score,
                                  double max_score, const Vec3d& centre) const {
    std::uint32_t best = kNone;
    double best_spread = -1.0;
    for (const std::uint32_t q : candidates) {
      const double s = score(q);
      if (s < max_score - eps_ || !(s > eps_)) continue;
      const double spread = (P(q) - centre).squaredNorm();
      if (spread > best_spread) {
        best_spread = spread;
        best = q;
      }
    }
    return best;
  }

  std::uint32_t NewFace(std::uint32_t a, std::uint32_t b, std::uint32_t c) {
    std::uint32_t id = 0;
    if (free_faces_.empty()) {
      id = static_cast<std::uint32_t>(faces_.size());
      faces_.emplace_back();
    } else {
      id = free_faces_.back();
      free_faces_.pop_back();
    }
    Face& f = faces_[id];
    f.v = {a, b, c};
    f.adj = {kNone, kNone, kNone};
    const Vec3d e1 = P(b) - P(a);
    const Vec3d e2 = P(c) - P(a);
    const Vec3d normal = AccurateCross(e1, e2);
    const double length = normal.norm();
    f.unit_normal = length > 0.0 ? Vec3d(normal / length) : Vec3d::Zero();
    f.offset = f.unit_normal.dot(P(a));
    // Rounding in the normal is below ~10 ulp of |e1| |e2| / |e1 × e2| (in direction), and in
    // the dot product and offset below ~10 ulp of |q| + |p0|; |q - p0| <= |q| + |p0|.
    f.filter_scale = length > 0.0 ? kOrientFilterError * (e1.norm() * e2.norm() / length + 1.0)
                                   : std::numeric_limits<double>::infinity();
    f.magnitude = P(a).cwiseAbs().sum();
    f.conflict_head = kNone;
    f.far_point = kNone;
    f.serial = ++serial_;
    f.visited = 0;
    f.visible = 0;
    f.alive = true;
    return id;
  }

  // Sets the adjacency among faces that share edges (only for the first tetrahedron).
  void LinkFaces(std::span<const std::uint32_t> ids) {
    for (const std::uint32_t f : ids) {
      for (int i = 0; i < 3; ++i) {
        const std::uint32_t from = faces_[f].v[i];
        const std::uint32_t to = faces_[f].v[(i + 1) % 3];
        for (const std::uint32_t g : ids) {
          if (g == f) continue;
          for (int j = 0; j < 3; ++j) {
            if (faces_[g].v[j] == to && faces_[g].v[(j + 1) % 3] == from) faces_[f].adj[i] = g;
          }
        }
      }
    }
  }

  // Puts q on the conflict list of the face in planes_ it is farthest above. A point within
  // eps of the hull is dropped: one below every plane (inside, as it was outside the faces
  // these replace), or within eps of one of the triangles. Being within eps of the planes is
  // not enough: near a sharp edge (a thin slab's rim) that can be far outside the hull.
  void AssignToFarthest(std::uint32_t q) {
    const Vec3d& p = P(q);
    std::uint32_t best = kNone;
    double best_distance = 0.0;
    for (const Plane& plane : planes_) {
      const double d = plane.unit_normal.dot(p) - plane.offset;
      if (d > best_distance) {
        best_distance = d;
        best = plane.face;
      }
    }
    if (best == kNone) return;
    if (best_distance <= eps_) {
      for (const Plane& plane : planes_) {
        const double d = plane.unit_normal.dot(p) - plane.offset;
        if (d < -eps_) continue;
        const Face& f = faces_[plane.face];
        if (PointTriangleDistance(p, P(f.v[0]), P(f.v[1]), P(f.v[2]), f.unit_normal) <= eps_) return;
      }
    }
    next_conflict_[q] = faces_[best].conflict_head;
    faces_[best].conflict_head = q;
    point_distance_[q] = best_distance;
  }

  // Chooses the face's next point, the farthest one (of near-ties, the one farthest from the
  // face's centre: on a tied edge or face that is one of its corners), and queues the face.
  void Finalize(std::uint32_t id) {
    Face& f = faces_[id];
    f.far_point = kNone;
    if (f.conflict_head == kNone) return;
    double max_distance = 0.0;
    for (std::uint32_t q = f.conflict_head; q != kNone; q = next_conflict_[q]) {
      max_distance = std::max(max_distance, point_distance_[q]);
    }
    const Vec3d centre = (P(f.v[0]) + P(f.v[1]) + P(f.v[2])) / 3.0;
    double best_spread = -1.0;
    for (std::uint32_t q = f.conflict_head; q != kNone; q = next_conflict_[q]) {
      if (point_distance_[q] < max_distance - eps_) continue;
      const double spread = (P(q) - centre).squaredNorm();
      if (spread > best_spread) {
        best_spread = spread;
        f.far_point = q;
      }
    }
    heap_.push({max_distance, f.serial, id});
  }

  // Adds point `eye`, which lies above face `start` (by more than eps, or by less but more
  // than eps away from the hull near a sharp edge).
  void AddPoint(std::uint32_t eye, std::uint32_t start) {
    ++stamp_;
    // The faces eye sees (strictly above their planes) form a disc around `start`.
    visible_.clear();
    faces_[start].visited = stamp_;
    if (Side(faces_[start], eye) <= 0) {
      DropPoint(eye, start);  // only when it lies on the plane within rounding: not outside
      return;
    }
    faces_[start].visible = stamp_;
    visible_.push_back(start);
    for (std::size_t k = 0; k < visible_.size(); ++k) {
      const Face& f = faces_[visible_[k]];
      for (const std::uint32_t g : f.adj) {
        Face& neighbour = faces_[g];
        if (neighbour.visited == stamp_) continue;
        neighbour.visited = stamp_;
        if (Side(neighbour, eye) > 0) {
          neighbour.visible = stamp_;
          visible_.push_back(g);
        }
      }
    }

    // Horizon edges (visible face, edge index), then chained into one loop.
    horizon_.clear();
    for (const std::uint32_t f : visible_) {
      for (std::uint32_t i = 0; i < 3; ++i) {
        if (faces_[faces_[f].adj[i]].visible != stamp_) horizon_.push_back(3 * f + i);
      }
    }
    const auto edge_from = [&](std::uint32_t e) { return faces_[e / 3].v[e % 3]; };
    const auto edge_to = [&](std::uint32_t e) { return faces_[e / 3].v[(e % 3 + 1) % 3]; };
    bool simple = true;
    for (const std::uint32_t e : horizon_) {
      std::uint32_t& slot = vertex_next_[edge_from(e)];
      if (slot != kNone) simple = false;
      slot = e;
    }
    loop_.clear();
    if (simple && !horizon_.empty()) {
      std::uint32_t e = horizon_[0];
      do {
        loop_.push_back(e);
        e = vertex_next_[edge_to(e)];
      } while (e != kNone && e != horizon_[0] && loop_.size() <= horizon_.size());
      simple = e == horizon_[0] && loop_.size() == horizon_.size();
    }
    for (const std::uint32_t e : horizon_) vertex_next_[edge_from(e)] = kNone;
    if (!simple) {
      DropPoint(eye, start);  // cannot happen with exact orientation tests
      return;
    }

    // Vertices of the visible faces that are not on the horizon end up inside the hull.
    std::uint32_t num_removed = 0;
    for (const std::uint32_t f : visible_) {
      for (const std::uint32_t v : faces_[f].v) {
        if (vertex_mark_[v] != stamp_) {
          vertex_mark_[v] = stamp_;
          ++num_removed;
        }
      }
    }
    num_removed -= static_cast<std::uint32_t>(horizon_.size());

    // A fan of new faces from eye to the horizon, linked to each other and to the faces beyond.
    new_faces_.clear();
    planes_.clear();
    for (const std::uint32_t e : loop_) {
      const std::uint32_t from = edge_from(e);
      const std::uint32_t to = edge_to(e);
      const std::uint32_t beyond = faces_[e / 3].adj[e % 3];
      const std::uint32_t id = NewFace(from, to, eye);
      faces_[id].adj[0] = beyond;
      Face& other = faces_[beyond];
      for (int j = 0; j < 3; ++j) {
        if (other.v[j] == to && other.v[(j + 1) % 3] == from) other.adj[j] = id;
      }
      new_faces_.push_back(id);
      planes_.push_back({faces_[id].unit_normal, faces_[id].offset, id});
    }
    const std::size_t n = new_faces_.size();
    for (std::size_t k = 0; k < n; ++k) {
      faces_[new_faces_[k]].adj[1] = new_faces_[(k + 1) % n];
      faces_[new_faces_[k]].adj[2] = new_faces_[(k + n - 1) % n];
    }

    // Retire the visible faces and reassign the points they held.
    for (const std::uint32_t f : visible_) {
      Face& face = faces_[f];
      std::uint32_t q = face.conflict_head;
      while (q != kNone) {
        const std::uint32_t next = next_conflict_[q];
        if (q != eye) AssignToFarthest(q);
        q = next;
      }
      face.conflict_head = kNone;
      face.alive = false;
      free_faces_.push_back(f);
    }
    for (const std::uint32_t f : new_faces_) Finalize(f);
    num_vertices_ = num_vertices_ + 1 - num_removed;
  }

  // Leaves a point out for good (only on an internal inconsistency).
  void DropPoint(std::uint32_t q, std::uint32_t face_id) {
    Face& f = faces_[face_id];
    std::uint32_t* link = &f.conflict_head;
    while (*link != kNone && *link != q) link = &next_conflict_[*link];
    if (*link == q) *link = next_conflict_[q];
    Finalize(face_id);
  }

  const std::vector<Vec3d>& points_;  // [num_points]
  double eps_;
  std::vector<double> point_distance_;        // [num_points] distance above its conflict face
  std::vector<std::uint32_t> next_conflict_;  // [num_points] next point in the same conflict list
  std::vector<std::uint32_t> vertex_next_;    // [num_points] horizon edge leaving it, or kNone
  std::vector<std::uint32_t> vertex_mark_;    // [num_points] search stamp
  std::vector<Face> faces_;                   // [num_face_slots] alive or free
  std::vector<std::uint32_t> free_faces_;     // [num_free] slots to reuse, last freed first
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, HeapBelow> heap_;
  std::uint32_t stamp_ = 0;
  std::uint32_t serial_ = 0;
  std::uint32_t num_vertices_ = 0;
  // Scratch for AddPoint.
  std::vector<std::uint32_t> visible_;    // [num_visible] face ids
  std::vector<std::uint32_t> horizon_;    // [num_horizon] 3 × face + edge
  std::vector<std::uint32_t> loop_;       // [num_horizon] horizon edges in order
  std::vector<std::uint32_t> new_faces_;  // [num_horizon] face ids
  std::vector<Plane> planes_;             // [num_candidate_faces] where points may be assigned
};

// ---------------------------------------------------------------------------------------------
// Removing vertices that are not corners.

// Vertices of `triangles` lying within eps of the hull of their neighbours: on a flat face (all
// neighbours within eps of one incident face's plane) or on a straight edge (within eps of the
// segment between two neighbours). No two returned vertices are neighbours, so each one is
// within eps of the hull of the vertices kept. Ascending point indices.
std::vector<std::uint32_t> FindFlatVertices(const std::vector<Vec3d>& points,
                                            const std::vector<Triangle>& triangles, double eps) {
  // Incident triangles per vertex (compressed rows over point indices).
  std::vector<std::uint32_t> offsets(points.size() + 1, 0);  // [num_points + 1]
  for (const Triangle& t : triangles) {
    for (const std::uint32_t v : t) ++offsets[v + 1];
  }
  std::partial_sum(offsets.begin(), offsets.end(), offsets.begin());
  std::vector<std::uint32_t> incident(offsets.back());  // [num_triangles × 3]
  std::vector<std::uint32_t> fill(offsets.begin(), offsets.end() - 1);  // [num_points] next free slot
  for (std::uint32_t t = 0; t < triangles.size(); ++t) {
    for (const std::uint32_t v : triangles[t]) incident[fill[v]++] = t;
  }

  // Unit normal and twice the area of each triangle.
  std::vector<Vec3d> normals(triangles.size());   // [num_triangles]
  std::vector<double> areas(triangles.size());    // [num_triangles]
  for (std::size_t t = 0; t < triangles.size(); ++t) {
    const Triangle& tri = triangles[t];
    const Vec3d n = AccurateCross(points[tri[1]] - points[tri[0]], points[tri[2]] - points[tri[0]]);
    areas[t] = n.norm();
    normals[t] = areas[t] > 0.0 ? Vec3d(n / areas[t]) : Vec3d::Zero();
  }

  std::vector<std::uint8_t> locked(points.size(), 0);     // [num_points]
  std::vector<std::uint32_t> ring_of(points.size(), kNone);  // [num_points] last vertex whose ring holds it
  std::vector<std::uint32_t> flat;  // [num_flat] point indices
  std::vector<std::uint32_t> ring;  // [num_neighbours] of the current vertex
  for (std::uint32_t v = 0; v < points.size(); ++v) {
    if (offsets[v] == offsets[v + 1] || locked[v]) continue;
    const Vec3d& p = points[v];
    ring.clear();
    std::uint32_t largest = kNone;
    for (std::uint32_t k = offsets[v]; k < offsets[v + 1]; ++k) {
      const std::uint32_t t = incident[k];
      for (const std::uint32_t w : triangles[t]) {
        if (w == v || ring_of[w] == v) continue;
        ring_of[w] = v;
        ring.push_back(w);
      }
      if (areas[t] > 0.0 && (largest == kNone || areas[t] > areas[largest])) largest = t;
    }
    if (largest == kNone) continue;
    const Vec3d& normal = normals[largest];

    bool is_flat = std::all_of(ring.begin(), ring.end(),
                               [&](std::uint32_t w) { return std::abs(normal.dot(points[w] - p)) <= eps; });
    if (!is_flat && ring.size() <= kMaxEdgeTestRing) {
      for (std::size_t i = 0; i < ring.size() && !is_flat; ++i) {
        for (std::size_t j = i + 1; j < ring.size() && !is_flat; ++j) {
          const Vec3d& a = points[ring[i]];
          if ((a - p).dot(points[ring[j]] - p) >= 0.0) continue;  // v is not between them
          const Vec3d segment = points[ring[j]] - a;
          const double length2 = segment.squaredNorm();
          const double t = (p - a).dot(segment) / length2;
          if (t <= 0.0 || t >= 1.0) continue;
          is_flat = (p - a - t * segment).squaredNorm() <= eps * eps;
        }
      }
    }
    if (!is_flat) continue;
    flat.push_back(v);
    for (const std::uint32_t w : ring) locked[w] = 1;
  }
  return flat;
}

constexpr std::uint32_t kMortonCells = 1u << 21;  // cells per axis

// Spreads the low 21 bits of x to every third bit.
std::uint64_t SpreadBits(std::uint32_t x) {
  std::uint64_t v = x & 0x1fffffu;
  v = (v | v << 32) & 0x1f00000000ffffull;
  v = (v | v << 16) & 0x1f0000ff0000ffull;
  v = (v | v << 8) & 0x100f00f00f00f00full;
  v = (v | v << 4) & 0x10c30c30c30c30c3ull;
  v = (v | v << 2) & 0x1249249249249249ull;
  return v;
}

std::uint64_t MortonCode(std::uint32_t x, std::uint32_t y, std::uint32_t z) {
  return SpreadBits(x) | SpreadBits(y) << 1 | SpreadBits(z) << 2;
}

}  // namespace

ConvexHull ComputeConvexHull(std::span<const Eigen::Vector3f> points, const ConvexHullConfig& config) {
  // Finite points, widened exactly to double.
  std::vector<Vec3d> finite;               // [num_finite]
  std::vector<std::uint32_t> source;       // [num_finite] index into `points`
  finite.reserve(points.size());
  source.reserve(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (!points[i].allFinite()) continue;
    finite.push_back(points[i].cast<double>());
    source.push_back(static_cast<std::uint32_t>(i));
  }
  if (finite.size() < 4) return {};

  Vec3d lo = finite[0];
  Vec3d hi = finite[0];
  for (const Vec3d& p : finite) {
    lo = lo.cwiseMin(p);
    hi = hi.cwiseMax(p);
  }
  const double diagonal = (hi - lo).norm();
  if (!(diagonal > 0.0)) return {};

  // Work in Morton (Z-curve) order: points near in space are near in memory, which keeps the
  // conflict-list passes cache-friendly on large inputs. Ties keep input order.
  {
    const Vec3d cell_scale =
        (hi - lo).cwiseMax(Vec3d::Constant(1e-300)).cwiseInverse() * double{kMortonCells - 1};
    std::vector<std::pair<std::uint64_t, std::uint32_t>> keyed(finite.size());  // [num_finite] (code, index)
    for (std::uint32_t i = 0; i < finite.size(); ++i) {
      const Vec3d cell = (finite[i] - lo).cwiseProduct(cell_scale);
      keyed[i] = {MortonCode(static_cast<std::uint32_t>(cell.x()), static_cast<std::uint32_t>(cell.y()),
                             static_cast<std::uint32_t>(cell.z())),
                  i};
    }
    std::sort(keyed.begin(), keyed.end());
    std::vector<Vec3d> sorted_points(finite.size());       // [num_finite]
    std::vector<std::uint32_t> sorted_source(finite.size());  // [num_finite]
    for (std::size_t k = 0; k < keyed.size(); ++k) {
      sorted_points[k] = finite[keyed[k].second];
      sorted_source[k] = source[keyed[k].second];
    }
    finite = std::move(sorted_points);
    source = std::move(sorted_source);
  }
  const double magnitude = std::max(lo.cwiseAbs().maxCoeff(), hi.cwiseAbs().maxCoeff());
  const double scale =
      std::isfinite(config.epsilon_scale) ? std::max(0.0, double{config.epsilon_scale}) : 0.0;
  const double eps = std::max(scale * diagonal, kMinRelativeEps * (magnitude + diagonal));
  const std::uint32_t max_vertices =
      config.max_vertices == 0 ? 0 : std::max<std::uint32_t>(config.max_vertices, 4);

  HullBuilder builder(finite, eps);
  std::vector<std::uint32_t> subset(finite.size());  // [num_subset] point indices
  std::iota(subset.begin(), subset.end(), 0u);
  std::vector<Triangle> triangles = builder.Build(subset, max_vertices);
  if (triangles.empty()) return {};

  // Marks the points `triangles` use; returns them in ascending order.
  std::vector<std::uint8_t> is_vertex(finite.size(), 0);  // [num_finite]
  const auto hull_vertices = [&](const std::vector<Triangle>& tris) {
    std::fill(is_vertex.begin(), is_vertex.end(), 0);
    for (const Triangle& t : tris) {
      for (const std::uint32_t v : t) is_vertex[v] = 1;
    }
    std::vector<std::uint32_t> used;  // [num_vertices] point indices
    for (std::uint32_t i = 0; i < finite.size(); ++i) {
      if (is_vertex[i]) used.push_back(i);
    }
    return used;
  };

  for (int round = 0; round < kMaxCleanupRounds; ++round) {
    const std::vector<std::uint32_t> flat = FindFlatVertices(finite, triangles, eps);
    if (flat.empty()) break;
    std::vector<std::uint32_t> kept = hull_vertices(triangles);  // [num_kept] point indices
    for (const std::uint32_t v : flat) is_vertex[v] = 0;
    std::erase_if(kept, [&](std::uint32_t v) { return !is_vertex[v]; });
    std::vector<Triangle> rebuilt = builder.Build(kept, 0);
    if (rebuilt.empty()) break;  // too few left to be solid: keep what we have
    triangles = std::move(rebuilt);
  }

  // Vertices in input order, indices remapped.
  std::vector<std::uint32_t> used = hull_vertices(triangles);  // [num_vertices] point indices
  std::sort(used.begin(), used.end(),
            [&](std::uint32_t a, std::uint32_t b) { return source[a] < source[b]; });
  std::vector<std::uint32_t> remap(finite.size(), kNone);  // [num_finite]
  ConvexHull hull;
  hull.vertices.reserve(used.size());
  for (std::uint32_t k = 0; k < used.size(); ++k) {
    remap[used[k]] = k;
    hull.vertices.push_back(points[source[used[k]]]);
  }
  hull.indices.reserve(triangles.size() * 3);
  for (const Triangle& t : triangles) {
    for (const std::uint32_t v : t) hull.indices.push_back(remap[v]);
  }
  return hull;
}

double ConvexHull::Volume() const {
  if (vertices.empty()) return 0.0;
  const Vec3d origin = vertices[0].cast<double>();
  double six_volume = 0.0;
  for (std::size_t t = 0; t + 2 < indices.size(); t += 3) {
    const Vec3d a = vertices[indices[t]].cast<double>() - origin;
    const Vec3d b = vertices[indices[t + 1]].cast<double>() - origin;
    const Vec3d c = vertices[indices[t + 2]].cast<double>() - origin;
    six_volume += a.dot(b.cross(c));
  }
  return six_volume / 6.0;
}

Eigen::Vector3f ConvexHull::Centroid() const {
  if (vertices.empty()) return Eigen::Vector3f::Zero();
  const Vec3d origin = vertices[0].cast<double>();
  double six_volume = 0.0;
  Vec3d weighted = Vec3d::Zero();
  for (std::size_t t = 0; t + 2 < indices.size(); t += 3) {
    const Vec3d a = vertices[indices[t]].cast<double>() - origin;
    const Vec3d b = vertices[indices[t + 1]].cast<double>() - origin;
    const Vec3d c = vertices[indices[t + 2]].cast<double>() - origin;
    const double v = a.dot(b.cross(c));  // six times the tetrahedron (origin, a, b, c)
    six_volume += v;
    weighted += v * (a + b + c) / 4.0;   // its centroid is (origin + a + b + c) / 4
  }
  if (!(six_volume > 0.0)) {
    Vec3d mean = Vec3d::Zero();
    for (const Eigen::Vector3f& p : vertices) mean += p.cast<double>();
    return (mean / static_cast<double>(vertices.size())).cast<float>();
  }
  return (origin + weighted / six_volume).cast<float>();
}

}  // namespace pf::assets
