// Fuzz target: the URDF importer (assets/urdf.h, assets/library.h).
//
// The input is URDF text. It is parsed with ParseUrdf as PRIVATE/robot.urdf, where PRIVATE
// is the process's private directory holding two small meshes (mesh.obj, mesh.stl) that
// references may resolve to; when it parses, the same text goes through ImportRobot from
// that file (meshes, collision preparation, inertia derived from collision geometry).
// Either step must fail with an error naming the file, or give a robot that keeps the
// invariants of RobotDesc (robot_desc.h) with finite numbers throughout.
#include <cmath>
#include <string>

#include "fuzz/fuzz_support.h"
#include "pf/assets/library.h"
#include "pf/assets/urdf.h"

namespace pf::fuzz {
namespace {

using assets::JointDofs;
using assets::JointType;

constexpr std::string_view kObj =
    "v 0 0 0\nv 0.1 0 0\nv 0 0.1 0\nv 0 0 0.1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n";
constexpr std::string_view kStl =
    "solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\n"
    "endloop\nendfacet\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 0 1 0\nvertex 0 0 1\n"
    "endloop\nendfacet\nendsolid t\n";

bool Finite(const core::Pose& X) { return X.matrix().allFinite(); }

void CheckRobot(const assets::RobotDesc& robot, const std::string& file) {
  Expect(!robot.links.empty(), "a robot without links from ", file);
  Expect(robot.joints.size() + 1 == robot.links.size(), robot.joints.size(), " joints for ",
         robot.links.size(), " links");
  Expect(robot.links[0].parent_joint == -1, "the root link has a parent joint");
  for (std::size_t l = 0; l < robot.links.size(); ++l) {
    const assets::LinkDesc& link = robot.links[l];
    if (l > 0) Expect(link.parent_joint == static_cast<int>(l) - 1, "link ", l, " has parent joint ", link.parent_joint);
    if (link.inertial) {
      Expect(std::isfinite(link.inertial->mass) && link.inertial->mass >= 0.0, "link ", link.name, " mass ",
             link.inertial->mass);
      Expect(link.inertial->I_I.allFinite(), "link ", link.name, " has a non-finite inertia");
      Expect(Finite(link.inertial->X_LI), "link ", link.name, " has a non-finite inertial origin");
    }
    for (const auto& v : link.visuals) Expect(Finite(v.X_LG), "non-finite visual origin in link ", link.name);
    for (const auto& c : link.collisions) {
      Expect(Finite(c.X_LG), "non-finite collision origin in link ", link.name);
      const assets::Geometry& g = c.geometry;
      Expect(g.size.allFinite() && std::isfinite(g.radius) && std::isfinite(g.length) && g.scale.allFinite(),
             "non-finite collision geometry in link ", link.name);
    }
    for (const auto& v : link.visuals)
      Expect(v.material >= -1 && v.material < static_cast<int>(robot.materials.size()), "material index ",
             v.material, " out of range");
  }
  for (std::size_t j = 0; j < robot.joints.size(); ++j) {
    const assets::JointDesc& joint = robot.joints[j];
    Expect(joint.child_link == static_cast<int>(j) + 1, "joint ", joint.name, " has child ", joint.child_link);
    Expect(joint.parent_link >= 0 && joint.parent_link < joint.child_link, "joint ", joint.name,
           " has parent ", joint.parent_link, " (parents come before children)");
    Expect(Finite(joint.X_PJ) && joint.axis.allFinite(), "joint ", joint.name, " has a non-finite frame or axis");
    if (JointDofs(joint.type) > 0 && joint.type != JointType::kFloating)
      Expect(std::abs(joint.axis.norm() - 1.0) < 1e-9, "joint ", joint.name, " axis is not unit length");
    if (joint.limits)
      Expect(joint.limits->lower <= joint.limits->upper && joint.limits->effort >= 0.0 &&
                 joint.limits->velocity >= 0.0,
             "joint ", joint.name, " has inconsistent limits");
    if (joint.mimic)
      Expect(joint.mimic->joint_index >= 0 && joint.mimic->joint_index < static_cast<int>(robot.joints.size()) &&
                 joint.mimic->joint_index != static_cast<int>(j),
             "joint ", joint.name, " mimics joint index ", joint.mimic->joint_index);
  }
}

}  // namespace
}  // namespace pf::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pf;
  fuzz::QuietLogs();
  static const bool meshes_written = [] {
    fuzz::WriteFile("mesh.obj", fuzz::kObj);
    fuzz::WriteFile("mesh.stl", fuzz::kStl);
    return true;
  }();
  (void)meshes_written;
  static assets::AssetLibrary library{assets::AssetResolver()};  // references resolve beside the URDF only

  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::filesystem::path path = fuzz::PrivateDir() / "robot.urdf";
  const std::string file = path.string();
  assets::UrdfConfig lenient;
  lenient.require_meshes = false;
  assets::Warnings warnings;
  const auto parsed = assets::ParseUrdf(text, path, library.resolver(), &warnings, lenient);
  if (!parsed) {
    fuzz::ExpectErrorNames(parsed.error(), file);
    return 0;
  }
  fuzz::CheckRobot(*parsed, file);
  for (const auto& w : warnings) fuzz::Expect(!w.message.empty(), "an empty warning");

  fuzz::WriteFile("robot.urdf", text);
  const auto imported = assets::ImportRobot(file, library);
  if (!imported) {
    // Mesh errors name the mesh file; everything else names the URDF.
    fuzz::Expect(!imported.error().message.empty() && !imported.error().where.file.empty(),
                 "an import error without a message or file: ", imported.error().ToString());
    return 0;
  }
  fuzz::CheckRobot(imported->desc, file);
  fuzz::Expect(imported->link_is_static.size() == imported->desc.links.size() &&
                   imported->visual_meshes.size() == imported->desc.links.size() &&
                   imported->collision_meshes.size() == imported->desc.links.size(),
               "per-link arrays of the imported robot have the wrong size");
  return 0;
}
