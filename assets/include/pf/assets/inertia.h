// Mass properties of solid geometry (uniform density): primitives and convex hulls.
#pragma once

#include "pf/assets/convex_hull.h"
#include "pf/core/math.h"

namespace pf::assets {

// Volume, first and second moments of a solid about the origin of the frame it is
// expressed in: V, ∫p dV, ∫p pᵀ dV. Adding two is the moments of their union (no overlap).
struct SolidMoments {
  double volume = 0.0;
  core::Vec3 first = core::Vec3::Zero();
  core::Mat3 second = core::Mat3::Zero();

  SolidMoments& operator+=(const SolidMoments& o);
  // The same solid expressed in frame A, given X_AB for this one expressed in B.
  SolidMoments Transformed(const core::Pose& X_AB) const;
  core::Vec3 Centroid() const { return first / volume; }
  // Rotational inertia about point p_Q (same frame) for total mass `mass`.
  core::Mat3 InertiaAbout(const core::Vec3& p_Q, double mass) const;
};

SolidMoments BoxMoments(const core::Vec3& size);                // full extents, centred
SolidMoments CylinderMoments(double radius, double length);     // axis z, centred
SolidMoments SphereMoments(double radius);
SolidMoments CapsuleMoments(double radius, double length);      // cylinder length + 2 hemispheres
SolidMoments HullMoments(const ConvexHull& hull);               // closed, outward-facing

}  // namespace pf::assets
