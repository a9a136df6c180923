#include "pf/assets/inertia.h"

#include <numbers>

namespace pf::assets {

using core::Mat3;
using core::Vec3;

SolidMoments& SolidMoments::operator+=(const SolidMoments& o) {
  volume += o.volume;
  first += o.first;
  second += o.second;
  return *this;
}

SolidMoments SolidMoments::Transformed(const core::Pose& X_AB) const {
  const Mat3 R = X_AB.rotation();
  const Vec3 t = X_AB.translation();
  SolidMoments out;
  out.volume = volume;
  // p_A = R p_B + t
  out.first = R * first + volume * t;
  out.second = R * second * R.transpose() + R * first * t.transpose() + t * (R * first).transpose() +
               volume * t * t.transpose();
  return out;
}

Mat3 SolidMoments::InertiaAbout(const Vec3& p_Q, double mass) const {
  // Second moment about Q, then I = tr(S) 1 - S, scaled from volume to mass.
  const Mat3 S = second - first * p_Q.transpose() - p_Q * first.transpose() + volume * p_Q * p_Q.transpose();
  const double density = mass / volume;
  return density * (S.trace() * Mat3::Identity() - S);
}

SolidMoments BoxMoments(const Vec3& size) {
  SolidMoments m;
  m.volume = size.prod();
  m.second = (m.volume / 12.0 * size.cwiseProduct(size)).asDiagonal();
  return m;
}

SolidMoments CylinderMoments(double radius, double length) {
  SolidMoments m;
  m.volume = std::numbers::pi * radius * radius * length;
  m.second = Vec3(m.volume * radius * radius / 4.0, m.volume * radius * radius / 4.0,
                  m.volume * length * length / 12.0).asDiagonal();
  return m;
}

SolidMoments SphereMoments(double radius) {
  SolidMoments m;
  m.volume = 4.0 / 3.0 * std::numbers::pi * radius * radius * radius;
  m.second = (m.volume * radius * radius / 5.0 * Vec3::Ones()).asDiagonal();
  return m;
}

SolidMoments CapsuleMoments(double radius, double length) {
  SolidMoments m = CylinderMoments(radius, length);
  // Two hemispheres with their flat faces at z = ±length/2. About its flat face a
  // hemisphere has ∫x² = ∫z² = V r²/5 and ∫z = π r⁴/4.
  const double v = 2.0 / 3.0 * std::numbers::pi * radius * radius * radius;
  const double z0 = length / 2.0;
  const double zz = 2.0 * (v * z0 * z0 + 2.0 * z0 * std::numbers::pi * std::pow(radius, 4) / 4.0 +
                           v * radius * radius / 5.0);
  m.volume += 2.0 * v;
  m.second += Vec3(2.0 * v * radius * radius / 5.0, 2.0 * v * radius * radius / 5.0, zz).asDiagonal();
  return m;
}

SolidMoments HullMoments(const ConvexHull& hull) {
  // Sum over tetrahedra (origin, a, b, c) of each outward face; signed volumes make the
  // choice of apex irrelevant. For a tetrahedron with one vertex at the origin:
  //   V = det[a b c] / 6,  ∫p = V (a + b + c) / 4,
  //   ∫p pᵀ = V/20 (a aᵀ + b bᵀ + c cᵀ + s sᵀ) with s = a + b + c.
  SolidMoments m;
  for (std::size_t f = 0; f + 2 < hull.indices.size(); f += 3) {
    const Vec3 a = hull.vertices[hull.indices[f]].cast<double>();
    const Vec3 b = hull.vertices[hull.indices[f + 1]].cast<double>();
    const Vec3 c = hull.vertices[hull.indices[f + 2]].cast<double>();
    const double v = a.dot(b.cross(c)) / 6.0;
    const Vec3 s = a + b + c;
    m.volume += v;
    m.first += v * s / 4.0;
    m.second += v / 20.0 * (a * a.transpose() + b * b.transpose() + c * c.transpose() + s * s.transpose());
  }
  return m;
}

}  // namespace pf::assets
