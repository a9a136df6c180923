// Procedural meshes for primitive geometry (what the renderer draws for boxes,
// spheres, cylinders and capsules). Centred at the origin; cylinders along +z.
#pragma once

#include "pf/assets/mesh.h"
#include "pf/assets/robot_desc.h"

namespace pf::assets {

MeshData MakeBoxMesh(const core::Vec3& size);                         // full extents
MeshData MakeSphereMesh(double radius, int segments = 24);            // latitude-longitude
MeshData MakeCylinderMesh(double radius, double length, int segments = 24);
MeshData MakeCapsuleMesh(double radius, double length, int segments = 24);
// The mesh of a primitive Geometry (box, sphere, cylinder, capsule); meshes are not primitives.
MeshData MakePrimitiveMesh(const Geometry& geometry);

}  // namespace pf::assets
