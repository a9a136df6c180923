#include "pf/assets/primitives.h"

#include <array>
#include <cmath>
#include <numbers>

#include "pf/core/check.h"

namespace pf::assets {
namespace {

struct Builder {
  MeshData mesh;
  std::uint32_t Vertex(const core::Vec3& p, const core::Vec3& n, double u, double v) {
    const core::Vec3 nn = n.normalized();
    mesh.positions.insert(mesh.positions.end(), {float(p.x()), float(p.y()), float(p.z())});
    mesh.normals.insert(mesh.normals.end(), {float(nn.x()), float(nn.y()), float(nn.z())});
    mesh.uvs.insert(mesh.uvs.end(), {float(u), float(v)});
    return static_cast<std::uint32_t>(mesh.num_vertices() - 1);
  }
  void Triangle(std::uint32_t a, std::uint32_t b, std::uint32_t c) { mesh.indices.insert(mesh.indices.end(), {a, b, c}); }
  MeshData Finish() {
    mesh.has_uvs = true;
    mesh.submeshes.push_back({0, static_cast<std::uint32_t>(mesh.indices.size()), -1, 0});
    return std::move(mesh);
  }
};

// A surface of revolution about z: profile points (r, z) with normals (nr, nz), bottom to top.
MeshData Revolve(const std::vector<std::array<double, 4>>& profile, int segments, bool caps) {
  Builder b;
  const int rings = static_cast<int>(profile.size());
  for (int i = 0; i < rings; ++i) {
    for (int s = 0; s <= segments; ++s) {
      const double a = 2.0 * std::numbers::pi * s / segments;
      const auto& [r, z, nr, nz] = profile[static_cast<std::size_t>(i)];
      b.Vertex({r * std::cos(a), r * std::sin(a), z}, {nr * std::cos(a), nr * std::sin(a), nz},
               double(s) / segments, 1.0 - double(i) / (rings - 1));
    }
  }
  const std::uint32_t stride = static_cast<std::uint32_t>(segments + 1);
  for (int i = 0; i + 1 < rings; ++i)
    for (int s = 0; s < segments; ++s) {
      const std::uint32_t v0 = static_cast<std::uint32_t>(i) * stride + static_cast<std::uint32_t>(s);
      const std::uint32_t v1 = v0 + stride;
      b.Triangle(v0, v0 + 1, v1 + 1);
      b.Triangle(v0, v1 + 1, v1);
    }
  if (caps) {
    for (int end = 0; end < 2; ++end) {
      const auto& [r, z, nr, nz] = profile[end == 0 ? 0 : static_cast<std::size_t>(rings - 1)];
      (void)nr;
      (void)nz;
      const double n = end == 0 ? -1.0 : 1.0;
      const std::uint32_t centre = b.Vertex({0, 0, z}, {0, 0, n}, 0.5, 0.5);
      const std::uint32_t first = static_cast<std::uint32_t>(b.mesh.num_vertices());
      for (int s = 0; s <= segments; ++s) {
        const double a = 2.0 * std::numbers::pi * s / segments;
        b.Vertex({r * std::cos(a), r * std::sin(a), z}, {0, 0, n}, 0.5 + 0.5 * std::cos(a), 0.5 + 0.5 * std::sin(a));
      }
      for (int s = 0; s < segments; ++s) {
        const std::uint32_t v = first + static_cast<std::uint32_t>(s);
        if (end == 0) b.Triangle(centre, v + 1, v);
        else b.Triangle(centre, v, v + 1);
      }
    }
  }
  return b.Finish();
}

}  // namespace

MeshData MakeBoxMesh(const core::Vec3& size) {
  Builder b;
  const core::Vec3 h = size / 2.0;
  for (int axis = 0; axis < 3; ++axis) {
    for (int sign = -1; sign <= 1; sign += 2) {
      core::Vec3 n = core::Vec3::Zero();
      n[axis] = sign;
      const int u_axis = (axis + 1) % 3, v_axis = (axis + 2) % 3;
      std::uint32_t corner[4];
      for (int c = 0; c < 4; ++c) {
        core::Vec3 p = core::Vec3::Zero();
        p[axis] = sign * h[axis];
        const double cu = (c == 1 || c == 2) ? 1.0 : -1.0, cv = (c >= 2) ? 1.0 : -1.0;
        p[u_axis] = cu * h[u_axis];
        p[v_axis] = cv * h[v_axis];
        corner[c] = b.Vertex(p, n, (cu + 1) / 2, (cv + 1) / 2);
      }
      // (u, v, n) is right-handed, so (0,1,2) is counter-clockwise seen from +n.
      if (sign > 0) {
        b.Triangle(corner[0], corner[1], corner[2]);
        b.Triangle(corner[0], corner[2], corner[3]);
      } else {
        b.Triangle(corner[0], corner[2], corner[1]);
        b.Triangle(corner[0], corner[3], corner[2]);
      }
    }
  }
  return b.Finish();
}

MeshData MakeSphereMesh(double radius, int segments) {
  std::vector<std::array<double, 4>> profile;
  const int rings = std::max(segments / 2, 4);
  for (int i = 0; i <= rings; ++i) {
    const double phi = -std::numbers::pi / 2 + std::numbers::pi * i / rings;
    profile.push_back({radius * std::cos(phi), radius * std::sin(phi), std::cos(phi), std::sin(phi)});
  }
  return Revolve(profile, segments, false);
}

MeshData MakeCylinderMesh(double radius, double length, int segments) {
  return Revolve({{radius, -length / 2, 1, 0}, {radius, length / 2, 1, 0}}, segments, true);
}

MeshData MakeCapsuleMesh(double radius, double length, int segments) {
  std::vector<std::array<double, 4>> profile;
  const int rings = std::max(segments / 4, 2);
  for (int i = 0; i <= rings; ++i) {  // bottom hemisphere
    const double phi = -std::numbers::pi / 2 + std::numbers::pi / 2 * i / rings;
    profile.push_back({radius * std::cos(phi), -length / 2 + radius * std::sin(phi), std::cos(phi), std::sin(phi)});
  }
  for (int i = 0; i <= rings; ++i) {  // top hemisphere
    const double phi = std::numbers::pi / 2 * i / rings;
    profile.push_back({radius * std::cos(phi), length / 2 + radius * std::sin(phi), std::cos(phi), std::sin(phi)});
  }
  return Revolve(profile, segments, false);
}

MeshData MakePrimitiveMesh(const Geometry& g) {
  switch (g.type) {
    case GeometryType::kBox: return MakeBoxMesh(g.size);
    case GeometryType::kSphere: return MakeSphereMesh(g.radius);
    case GeometryType::kCylinder: return MakeCylinderMesh(g.radius, g.length);
    case GeometryType::kCapsule: return MakeCapsuleMesh(g.radius, g.length);
    case GeometryType::kMesh: break;
  }
  PF_CHECK(false, "MakePrimitiveMesh called with a mesh geometry");
  return {};
}

}  // namespace pf::assets
