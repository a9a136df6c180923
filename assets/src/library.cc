#include "pf/assets/library.h"

#include <cmath>
#include <set>

#include "pf/assets/builtin.h"
#include "pf/assets/inertia.h"
#include "pf/core/str.h"

namespace pf::assets {

AssetLibrary::AssetLibrary(AssetResolver resolver, MeshLoadConfig mesh_config, CollisionConfig collision_config)
    : meshes_(std::move(resolver), mesh_config), collision_config_(collision_config) {}

core::Result<std::shared_ptr<const MeshData>> AssetLibrary::Mesh(const fs::path& path, Warnings* warnings) {
  return meshes_.Get(path, warnings);
}

core::Result<std::shared_ptr<const CollisionMesh>> AssetLibrary::Collision(const fs::path& path,
                                                                           const core::Vec3& scale,
                                                                           bool is_static, Warnings* warnings) {
  const auto key = std::make_tuple(fs::absolute(path).lexically_normal().string(), scale.x(), scale.y(),
                                   scale.z(), is_static);
  {
    std::lock_guard lock(mutex_);
    if (auto it = collisions_.find(key); it != collisions_.end()) return it->second;
  }
  PF_ASSIGN_OR_RETURN(auto mesh, Mesh(path, warnings));
  PF_ASSIGN_OR_RETURN(CollisionMesh prepared,
                      PrepareCollisionMesh(*mesh, scale, is_static, warnings, collision_config_));
  auto shared = std::make_shared<const CollisionMesh>(std::move(prepared));
  std::lock_guard lock(mutex_);
  return collisions_.try_emplace(key, std::move(shared)).first->second;
}

std::size_t ImportedRobot::NumMeshFiles() const {
  std::set<fs::path> files;
  for (const auto& link : desc.links) {
    for (const auto& v : link.visuals)
      if (v.geometry.type == GeometryType::kMesh) files.insert(v.geometry.mesh_path);
    for (const auto& c : link.collisions)
      if (c.geometry.type == GeometryType::kMesh) files.insert(c.geometry.mesh_path);
  }
  return files.size();
}

std::size_t ImportedRobot::NumVisualTriangles() const {
  std::size_t n = 0;
  for (const auto& link : visual_meshes)
    for (const auto& m : link)
      if (m) n += m->num_triangles();
  return n;
}

std::size_t ImportedRobot::NumCollisionTriangles() const {
  std::size_t n = 0;
  for (const auto& link : collision_meshes)
    for (const auto& m : link)
      if (m) n += m->num_triangles();
  return n;
}

std::size_t ImportedRobot::NumConvexHulls() const {
  std::size_t n = 0;
  for (const auto& link : collision_meshes)
    for (const auto& m : link)
      if (m && m->kind == CollisionMeshKind::kConvexHulls) n += m->hulls.size();
  return n;
}

std::size_t ImportedRobot::NumPrimitiveShapes() const {
  std::size_t n = 0;
  for (const auto& link : desc.links)
    for (const auto& c : link.collisions) n += c.geometry.type != GeometryType::kMesh ? 1 : 0;
  return n;
}

namespace {

// Replaces a singular file inertia by that of the link's collision geometry (uniform
// density) at the file's mass, about the file's centre of mass, in the file's inertia frame.
core::Status DeriveInertia(LinkDesc& link, const std::vector<std::shared_ptr<const CollisionMesh>>& meshes,
                           const fs::path& source) {
  SolidMoments total;
  for (std::size_t c = 0; c < link.collisions.size(); ++c) {
    const CollisionDesc& col = link.collisions[c];
    const Geometry& g = col.geometry;
    SolidMoments m;
    switch (g.type) {
      case GeometryType::kBox: m = BoxMoments(g.size); break;
      case GeometryType::kCylinder: m = CylinderMoments(g.radius, g.length); break;
      case GeometryType::kSphere: m = SphereMoments(g.radius); break;
      case GeometryType::kCapsule: m = CapsuleMoments(g.radius, g.length); break;
      case GeometryType::kMesh:
        if (meshes[c])
          for (const auto& hull : meshes[c]->hulls) m += HullMoments(hull);
        break;
    }
    total += m.Transformed(col.X_LG);
  }
  InertialDesc& in = *link.inertial;
  if (!(total.volume > 0.0))
    return core::Fail(core::StrCat("inertia is singular and the collision geometry of link '", link.name,
                                   "' has no volume to derive one from"),
                      {source.string(), link.line, 0, "link[" + link.name + "].inertial.inertia"});
  const core::Mat3 I_L = total.InertiaAbout(in.X_LI.translation(), in.mass);
  const core::Mat3 R_LI = in.X_LI.rotation();
  const core::Mat3 I_I = R_LI.transpose() * I_L * R_LI;
  // Sizes near the double range (a 1e200 m box) overflow the volume or the moments.
  if (!std::isfinite(total.volume) || !I_I.allFinite())
    return core::Fail(core::StrCat("inertia is singular and the one derived from the collision geometry of link '",
                                   link.name, "' is not finite (geometry or mass too large)"),
                      {source.string(), link.line, 0, "link[" + link.name + "].inertial.inertia"});
  in.I_I = I_I;
  return core::Ok();
}

}  // namespace

core::Result<ImportedRobot> ImportRobot(const std::string& source, AssetLibrary& library,
                                        const ImportConfig& config) {
  ImportedRobot robot;
  if (source.starts_with(kBuiltinScheme)) {
    const std::string name = source.substr(kBuiltinScheme.size());
    const auto text = BuiltinUrdf(name);
    if (!text) {
      return core::Fail(core::StrCat("unknown built-in robot '", name, "' (built-in: ", core::Join(BuiltinNames(), ", "), ")"),
                        {source, 0, 0, ""});
    }
    PF_ASSIGN_OR_RETURN(robot.desc, ParseUrdf(*text, source, library.resolver(), &robot.warnings, config.urdf));
  } else {
    PF_ASSIGN_OR_RETURN(robot.desc, LoadUrdf(source, library.resolver(), &robot.warnings, config.urdf));
  }
  const RobotDesc& desc = robot.desc;
  const auto& root = desc.links.front();
  robot.fixed_base = config.fixed_base.value_or(!root.inertial || root.inertial->mass <= 0.0);

  robot.link_is_static.assign(desc.links.size(), false);
  robot.link_is_static[0] = robot.fixed_base;
  for (std::size_t l = 1; l < desc.links.size(); ++l) {
    const JointDesc& j = desc.joints[l - 1];
    robot.link_is_static[l] =
        j.type == JointType::kFixed && robot.link_is_static[static_cast<std::size_t>(j.parent_link)];
  }

  robot.visual_meshes.resize(desc.links.size());
  robot.collision_meshes.resize(desc.links.size());
  for (std::size_t l = 0; l < desc.links.size(); ++l) {
    const LinkDesc& link = desc.links[l];
    for (const auto& v : link.visuals) {
      std::shared_ptr<const MeshData> mesh;
      if (config.load_visual_meshes && v.geometry.type == GeometryType::kMesh && !v.geometry.mesh_path.empty()) {
        auto loaded = library.Mesh(v.geometry.mesh_path, &robot.warnings);
        if (!loaded) {
          core::Error e = loaded.error();
          e.message = core::StrCat(e.message, " (mesh of link '", link.name, "', visual at ",
                                   desc.source.string(), ":", v.line, ")");
          return std::unexpected(std::move(e));
        }
        mesh = *loaded;
      }
      robot.visual_meshes[l].push_back(std::move(mesh));
    }
    for (const auto& c : link.collisions) {
      std::shared_ptr<const CollisionMesh> shape;
      if (config.load_collision_meshes && c.geometry.type == GeometryType::kMesh && !c.geometry.mesh_path.empty()) {
        auto prepared =
            library.Collision(c.geometry.mesh_path, c.geometry.scale, robot.link_is_static[l], &robot.warnings);
        if (!prepared) {
          core::Error e = prepared.error();
          e.message = core::StrCat(e.message, " (collision of link '", link.name, "' at ",
                                   desc.source.string(), ":", c.line, ")");
          return std::unexpected(std::move(e));
        }
        shape = *prepared;
      }
      robot.collision_meshes[l].push_back(std::move(shape));
    }
    if (link.inertial && link.inertial->derive_from_collision && config.load_collision_meshes)
      PF_TRY(DeriveInertia(robot.desc.links[l], robot.collision_meshes[l], desc.source));
  }
  return robot;
}

}  // namespace pf::assets
