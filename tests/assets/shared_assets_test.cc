// Every URDF in ../shared/assets imports, and what it holds matches what the files say.
// The expected numbers were read off the files (link and joint elements, <mass> values,
// <mesh> references); V-HACD hull counts are the `o` objects of the OBJ files.
#include <catch2/catch.hpp>

#include <set>

#include <Eigen/Eigenvalues>

#include "pf/assets/library.h"
#include "pf/assets/texture.h"
#include "support/test_support.h"

namespace pf::assets {
namespace {

struct Expected {
  const char* urdf;
  int links, joints, revolute, continuous, prismatic, fixed, mimic;
  double mass;
  int visual_meshes, collision_meshes, mesh_files;
};

const Expected kExpected[] = {
    {"franka_panda/panda.urdf", 13, 12, 7, 0, 2, 3, 1, 17.96, 11, 11, 18},
    {"husky/husky.urdf", 11, 10, 0, 4, 0, 6, 0, 44.003, 9, 0, 5},
    {"objects/cube.urdf", 1, 0, 0, 0, 0, 0, 0, 1.0, 1, 0, 1},
    {"objects/cube_small.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 0, 1},
    {"objects/duck_vhacd.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 2},
    {"objects/lego/lego.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 0, 1},
    {"objects/plane.urdf", 1, 0, 0, 0, 0, 0, 0, 0.0, 1, 0, 1},
    {"objects/plane100.urdf", 1, 0, 0, 0, 0, 0, 0, 0.0, 1, 0, 1},
    {"objects/plane_transparent.urdf", 1, 0, 0, 0, 0, 0, 0, 0.0, 1, 0, 1},
    {"objects/sphere2.urdf", 1, 0, 0, 0, 0, 0, 0, 10.0, 1, 0, 1},
    {"objects/sphere2red.urdf", 1, 0, 0, 0, 0, 0, 0, 10.0, 1, 0, 1},
    {"objects/sphere_1cm.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 0, 0, 0},
    {"objects/sphere_small.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 0, 1},
    {"objects/table/table.urdf", 1, 0, 0, 0, 0, 0, 0, 0.0, 5, 0, 1},
    {"objects/teddy_large.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"objects/teddy_vhacd.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"objects/tray/tray.urdf", 1, 0, 0, 0, 0, 0, 0, 0.0, 1, 1, 1},
    {"objects/tray/tray_textured2.urdf", 1, 0, 0, 0, 0, 0, 0, 0.0, 1, 1, 1},
    {"objects/tray/traybox.urdf", 1, 0, 0, 0, 0, 0, 0, 0.0, 1, 0, 1},
    {"r2d2_pr2_gripper/pr2_gripper.urdf", 5, 4, 2, 0, 0, 2, 0, 0.9, 4, 2, 2},
    {"r2d2_pr2_gripper/r2d2.urdf", 16, 15, 2, 5, 1, 7, 0, 65.25, 4, 4, 2},
    {"random_urdfs/000/000.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/050/050.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/100/100.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/150/150.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/200/200.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/250/250.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/300/300.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/350/350.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/400/400.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/450/450.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/500/500.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/550/550.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/600/600.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/650/650.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/700/700.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/750/750.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/800/800.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/850/850.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/900/900.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"random_urdfs/950/950.urdf", 1, 0, 0, 0, 0, 0, 0, 0.1, 1, 1, 1},
    {"wsg50_gripper/wsg50_one_motor_gripper_left_finger.urdf", 1, 0, 0, 0, 0, 0, 0, 0.2, 1, 0, 1},
    {"wsg50_gripper/wsg50_one_motor_gripper_right_finger.urdf", 1, 0, 0, 0, 0, 0, 0, 0.2, 1, 0, 1},
};

int CountMeshGeometry(const RobotDesc& desc, bool visual) {
  int n = 0;
  for (const auto& link : desc.links) {
    if (visual) {
      for (const auto& v : link.visuals) n += v.geometry.type == GeometryType::kMesh ? 1 : 0;
    } else {
      for (const auto& c : link.collisions) n += c.geometry.type == GeometryType::kMesh ? 1 : 0;
    }
  }
  return n;
}

TEST_CASE("every URDF of the shared assets imports with the counts its file states", "[assets][shared]") {
  const auto root = pf::testing::RequireSharedAssets();
  // The table covers every URDF in the folder.
  std::set<std::string> listed, found;
  for (const auto& e : kExpected) listed.insert(e.urdf);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root))
    if (entry.path().extension() == ".urdf") found.insert(entry.path().lexically_relative(root).string());
  CHECK(listed == found);

  AssetLibrary library{AssetResolver()};
  for (const Expected& e : kExpected) {
    INFO(e.urdf);
    const auto robot = ImportRobot((root / e.urdf).string(), library);
    if (!robot) FAIL(robot.error().ToString());
    const RobotDesc& d = robot->desc;
    CHECK(d.num_links() == e.links);
    CHECK(d.num_joints() == e.joints);
    CHECK(d.NumJointsOfType(JointType::kRevolute) == e.revolute);
    CHECK(d.NumJointsOfType(JointType::kContinuous) == e.continuous);
    CHECK(d.NumJointsOfType(JointType::kPrismatic) == e.prismatic);
    CHECK(d.NumJointsOfType(JointType::kFixed) == e.fixed);
    CHECK(d.NumDofs() == e.revolute + e.continuous + e.prismatic);
    CHECK(d.NumIndependentDofs() == e.revolute + e.continuous + e.prismatic - e.mimic);
    CHECK(d.TotalMass() == Approx(e.mass).margin(1e-12));
    CHECK(CountMeshGeometry(d, true) == e.visual_meshes);
    CHECK(CountMeshGeometry(d, false) == e.collision_meshes);
    CHECK(static_cast<int>(robot->NumMeshFiles()) == e.mesh_files);
    // Every mesh loaded, with triangles and normals.
    for (const auto& link : robot->visual_meshes)
      for (const auto& m : link)
        if (m) CHECK(m->num_triangles() > 0);
    for (std::size_t l = 0; l < robot->collision_meshes.size(); ++l)
      for (const auto& c : robot->collision_meshes[l])
        if (c) CHECK(c->num_triangles() > 0);
  }
}

TEST_CASE("the Panda: 7 arm joints, a mimic finger and package:// meshes", "[assets][shared]") {
  const auto root = pf::testing::RequireSharedAssets();
  AssetLibrary library{AssetResolver()};
  const auto panda = ImportRobot((root / "franka_panda/panda.urdf").string(), library);
  REQUIRE(panda);
  const RobotDesc& d = panda->desc;
  CHECK(d.links[0].name == "panda_link0");
  CHECK(d.NumDofs() == 9);
  CHECK(d.NumIndependentDofs() == 8);
  const JointDesc& finger2 = d.joints[static_cast<std::size_t>(d.FindJoint("panda_finger_joint2"))];
  REQUIRE(finger2.mimic);
  CHECK(finger2.mimic->joint == "panda_finger_joint1");
  const JointDesc& j1 = d.joints[static_cast<std::size_t>(d.FindJoint("panda_joint1"))];
  REQUIRE(j1.limits);
  CHECK(j1.limits->lower == Approx(-2.9671));
  CHECK(j1.limits->upper == Approx(2.9671));
  // Collision meshes of moving links are convex hulls; textures resolved beside the meshes.
  int hulls = 0;
  for (std::size_t l = 1; l < panda->collision_meshes.size(); ++l)
    for (const auto& c : panda->collision_meshes[l])
      if (c) {
        CHECK(c->kind == CollisionMeshKind::kConvexHulls);
        hulls += static_cast<int>(c->hulls.size());
      }
  CHECK(hulls >= 10);
  // link6's collision .mtl names a Windows path: a warning, not a failure.
  bool windows_warning = false;
  for (const auto& w : panda->warnings) windows_warning = windows_warning || w.message.find("D:") != std::string::npos;
  CHECK(windows_warning);
}

TEST_CASE("multi-object OBJs become one convex hull per object", "[assets][shared]") {
  const auto root = pf::testing::RequireSharedAssets();
  AssetLibrary library{AssetResolver()};
  const auto duck = ImportRobot((root / "objects/duck_vhacd.urdf").string(), library);
  REQUIRE(duck);
  REQUIRE(duck->collision_meshes[0][0]);
  CHECK(duck->collision_meshes[0][0]->hulls.size() == 5);
  const auto teddy = ImportRobot((root / "objects/teddy_vhacd.urdf").string(), library);
  REQUIRE(teddy);
  CHECK(teddy->collision_meshes[0][0]->hulls.size() == 15);
  // Each random_urdfs blob is a union of convex `o` objects: one hull per object.
  for (const char* name : {"000", "350", "950"}) {
    INFO(name);
    const auto dir = root / "random_urdfs" / name;
    const std::string obj = pf::testing::ReadFile(dir / (std::string(name) + ".obj"));
    std::size_t objects = obj.starts_with("o ") ? 1 : 0;
    for (std::size_t at = obj.find("\no "); at != std::string::npos; at = obj.find("\no ", at + 1)) ++objects;
    const auto blob = ImportRobot((dir / (std::string(name) + ".urdf")).string(), library);
    REQUIRE(blob);
    CHECK(blob->collision_meshes[0][0]->hulls.size() == objects);
    for (const auto& hull : blob->collision_meshes[0][0]->hulls) CHECK(hull.Volume() > 0.0);
    // Its file inertia is singular (izz = 0): replaced by the hulls' inertia at the file's mass.
    const auto& inertial = *blob->desc.links[0].inertial;
    CHECK(inertial.derive_from_collision);
    const Eigen::SelfAdjointEigenSolver<core::Mat3> s(inertial.I_I);
    CHECK(s.eigenvalues().minCoeff() > 0.0);
    CHECK(s.eigenvalues().maxCoeff() < inertial.mass * 0.05 * 0.05);  // a few-cm object
  }
  // The static tray keeps its exact (concave) triangle mesh.
  const auto tray = ImportRobot((root / "objects/tray/tray.urdf").string(), library);
  REQUIRE(tray);
  CHECK(tray->fixed_base);
  CHECK(tray->collision_meshes[0][0]->kind == CollisionMeshKind::kTriangleMesh);
}

TEST_CASE("textures (PNG, JPG, GIF) decode, missing .mtl files are warnings", "[assets][shared]") {
  const auto root = pf::testing::RequireSharedAssets();
  for (const char* file : {"objects/checker_blue.png", "objects/tray/tray.jpg", "objects/checker_huge.gif",
                           "objects/duckCM.png", "objects/table/table.png"}) {
    INFO(file);
    const auto t = LoadTexture(root / file);
    REQUIRE(t);
    CHECK(t->width > 0);
    CHECK(t->rgba.size() == std::size_t{t->width} * t->height * 4);
  }
  AssetLibrary library{AssetResolver()};
  const auto plane = ImportRobot((root / "objects/plane.urdf").string(), library);
  REQUIRE(plane);
  const auto& mesh = plane->visual_meshes[0][0];
  REQUIRE(mesh);
  bool checker = false;
  for (const auto& m : mesh->materials) checker = checker || m.texture.filename() == "checker_blue.png";
  CHECK(checker);
  const auto cube = ImportRobot((root / "objects/cube.urdf").string(), library);
  REQUIRE(cube);  // cube.obj names cube.mtl, which upstream lacks
  bool mtl_warning = false;
  for (const auto& w : cube->warnings) mtl_warning = mtl_warning || w.message.find("cube.mtl") != std::string::npos;
  CHECK(mtl_warning);
}

}  // namespace
}  // namespace pf::assets
