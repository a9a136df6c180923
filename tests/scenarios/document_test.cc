// ScenarioDocument: edits checked like loaded files, differences by field, saving that
// round-trips and never leaves a half-written file.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "pf/scenarios/document.h"
#include "support/test_support.h"

namespace pf::scenarios {
namespace {

using Paths = std::vector<std::string>;

TEST_CASE("ScenarioDocument: load, save, load gives the same scenario", "[scenarios][document]") {
  assets::AssetLibrary library{assets::AssetResolver()};
  auto doc = ScenarioDocument::Open("builtin://default", library);
  if (!doc) FAIL(doc.error().ToString());
  pf::testing::TempDir dir;
  const auto path = dir.path() / "saved.pbtxt";
  REQUIRE(doc->Save(path));
  CHECK(doc->source() == path);
  auto again = ScenarioDocument::Open(path.string(), library);
  if (!again) FAIL(again.error().ToString());
  CHECK(again->Differences(*doc).empty());
  CHECK(again->scenario().model.scenario_hash == doc->scenario().model.scenario_hash);
  CHECK(again->Text() == doc->Text());
  CHECK(again->ObjectNames() == doc->ObjectNames());
  CHECK(again->RobotNames() == Paths{"arm"});
}

TEST_CASE("ScenarioDocument: edits change exactly their field, invalid edits change nothing", "[scenarios][document]") {
  assets::AssetLibrary library{assets::AssetResolver()};
  auto doc = ScenarioDocument::Open("builtin://default", library);
  if (!doc) FAIL(doc.error().ToString());
  const ScenarioDocument original = *doc;
  REQUIRE(doc->SetObjectMass("red_cube", 0.25));
  CHECK(doc->Differences(original) == Paths{"objects[red_cube].mass"});
  auto fields = doc->Object("red_cube");
  REQUIRE(fields);
  CHECK(fields->mass == 0.25);
  CHECK(fields->shape == "box");

  core::Pose moved = fields->pose;
  moved.translation() += core::Vec3(0.05, -0.02, 0.0);
  REQUIRE(doc->SetObjectPose("red_cube", moved));
  REQUIRE(doc->SetObjectColour("red_cube", core::Vec4(0.1, 0.2, 0.3, 1.0)));
  CHECK(doc->Differences(original) ==
        Paths{"objects[red_cube].pose", "objects[red_cube].mass", "objects[red_cube].color"});
  CHECK(doc->Object("red_cube")->pose.translation().isApprox(moved.translation()));
  // The compiled model follows.
  bool found = false;
  for (const auto& spec : doc->scenario().model.objects)
    if (spec.name == "red_cube") {
      found = true;
      CHECK(spec.mass == 0.25);
      CHECK(spec.X_WO.translation().isApprox(moved.translation()));
    }
  CHECK(found);

  const std::string before = doc->Text();
  const auto negative = doc->SetObjectMass("red_cube", -1.0);
  REQUIRE_FALSE(negative);
  CHECK(negative.error().where.field == "objects[red_cube].mass");
  CHECK_FALSE(doc->SetObjectColour("red_cube", core::Vec4(2.0, 0.0, 0.0, 1.0)));
  CHECK_FALSE(doc->SetObjectMass("no_such_object", 1.0));
  CHECK_FALSE(doc->AddUrdfObject("red_cube", "builtin://parafab_arm", core::Pose::Identity()));  // name taken
  CHECK(doc->Text() == before);

  // A placement region: grown, and one too small for its objects (refused at load, so here).
  const ScenarioDocument edited = *doc;
  RegionSpec region = doc->scenario().randomization.placements[0].region;
  region.max.x() += 0.02;
  REQUIRE(doc->SetPlacementRegion(0, region));
  CHECK(doc->Differences(edited) == Paths{"randomization.placements[0].region"});
  CHECK(doc->scenario().randomization.placements[0].region.max.x() == region.max.x());
  RegionSpec tiny = region;
  tiny.max.x() = tiny.min.x() + 0.001;
  tiny.max.y() = tiny.min.y() + 0.001;
  const auto too_small = doc->SetPlacementRegion(0, tiny);
  REQUIRE_FALSE(too_small);
  CHECK_THAT(too_small.error().where.field, Catch::StartsWith("randomization.placements[0]"));
  CHECK_FALSE(doc->SetPlacementRegion(7, region));
  *doc = edited;
  // Still named by the randomization: removing it would leave a dangling name.
  const auto referenced = doc->RemoveObject("yellow_sphere");
  REQUIRE_FALSE(referenced);
  CHECK(referenced.error().where.field == "randomization.placements[0].objects[3]");
  CHECK(doc->Text() == before);
}

TEST_CASE("ScenarioDocument: objects from the shared assets, saved and loaded back", "[scenarios][document]") {
  const auto shared = pf::testing::RequireSharedAssets();
  assets::AssetLibrary library{assets::AssetResolver({shared})};
  pf::testing::TempDir dir;
  const auto path = dir.path() / "scene.pbtxt";
  auto doc = ScenarioDocument::Open("builtin://default", library);
  if (!doc) FAIL(doc.error().ToString());
  REQUIRE(doc->Save(path));  // a file now: it may name URDFs inside the asset roots
  auto file = ScenarioDocument::Open(path.string(), library);
  if (!file) FAIL(file.error().ToString());
  const std::string urdf = (shared / "objects/cube.urdf").string();
  const auto added = file->AddUrdfObject("shared_cube", urdf, core::MakePose(core::Vec3(0.5, 0.1, 0.9)));
  if (!added) FAIL(added.error().ToString());
  CHECK(file->Differences(*doc) == Paths{"objects[shared_cube]"});
  CHECK(file->Object("shared_cube")->shape == "urdf");
  // Outside the roots: refused, naming the field.
  const auto outside = file->AddUrdfObject("stray", "/etc/hostname.urdf", core::Pose::Identity());
  REQUIRE_FALSE(outside);
  CHECK(outside.error().where.field.find("objects[stray]") == 0);
  REQUIRE(file->Save(path));
  auto back = ScenarioDocument::Open(path.string(), library);
  if (!back) FAIL(back.error().ToString());
  CHECK(back->Differences(*file).empty());
  REQUIRE(back->RemoveObject("shared_cube"));
  CHECK(back->Differences(*doc).empty());
}

// The lines of a text that are comments.
std::vector<std::string> CommentLines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t");
    if (first != std::string::npos && line[first] == '#') out.push_back(line);
  }
  return out;
}

TEST_CASE("ScenarioDocument: saving keeps the file's comments and layout wherever it did not change",
          "[scenarios][document]") {
  assets::AssetLibrary library{assets::AssetResolver()};
  pf::testing::TempDir dir;
  const std::string original = pf::testing::ReadFile(pf::testing::SourceDir() / "scenarios/library/default.pbtxt");
  const auto path = dir.Write("default.pbtxt", original);
  auto doc = ScenarioDocument::Open(path.string(), library);
  if (!doc) FAIL(doc.error().ToString());
  // Unedited: byte for byte.
  REQUIRE(doc->Save(path));
  CHECK(pf::testing::ReadFile(path) == original);
  // One field edited: only that object's entry is printed anew; every comment stays.
  REQUIRE(doc->SetObjectMass("red_cube", 0.2));
  REQUIRE(doc->SetObjectColour("red_cube", core::Vec4(0.2, 0.3, 0.9, 1.0)));
  REQUIRE(doc->Save(path));
  const std::string saved = pf::testing::ReadFile(path);
  CHECK(CommentLines(saved) == CommentLines(original));
  CHECK(saved != original);
  const std::size_t red = saved.find("name: \"red_cube\"");
  REQUIRE(red != std::string::npos);
  // The text before the edited entry is untouched.
  const std::size_t entry = saved.rfind("objects {", red);
  CHECK(saved.substr(0, entry) == original.substr(0, entry));
  auto back = ScenarioDocument::Open(path.string(), library);
  REQUIRE(back);
  CHECK(back->Differences(*doc).empty());
  CHECK(back->Object("red_cube")->mass == 0.2);
}

TEST_CASE("ScenarioDocument: a new object is saved after the last one, comments kept", "[scenarios][document]") {
  const auto shared = pf::testing::RequireSharedAssets();
  assets::AssetLibrary library{assets::AssetResolver({shared})};
  pf::testing::TempDir dir;
  const std::string original = pf::testing::ReadFile(pf::testing::SourceDir() / "scenarios/library/default.pbtxt");
  const auto path = dir.Write("default.pbtxt", original);
  auto doc = ScenarioDocument::Open(path.string(), library);
  REQUIRE(doc);
  REQUIRE(doc->AddUrdfObject("mug", (shared / "objects/cube.urdf").string(), core::MakePose(core::Vec3(0.5, 0.2, 0.45))));
  REQUIRE(doc->Save(path));
  const std::string saved = pf::testing::ReadFile(path);
  CHECK(CommentLines(saved) == CommentLines(original));
  // After the last object of the file, before what followed it.
  const std::size_t mug = saved.find("name: \"mug\"");
  const std::size_t sphere = saved.find("name: \"yellow_sphere\"");
  const std::size_t task = saved.find("\ntask {");
  REQUIRE(mug != std::string::npos);
  CHECK(sphere < mug);
  CHECK(mug < task);
  auto back = ScenarioDocument::Open(path.string(), library);
  if (!back) FAIL(back.error().ToString());
  CHECK(back->Differences(*doc).empty());
}

TEST_CASE("ScenarioDocument: a failed save leaves the previous file intact", "[scenarios][document]") {
  assets::AssetLibrary library{assets::AssetResolver()};
  auto doc = ScenarioDocument::Open("builtin://default", library);
  REQUIRE(doc);
  pf::testing::TempDir dir;
  const auto path = dir.path() / "kept.pbtxt";
  REQUIRE(doc->Save(path));
  const std::string saved = pf::testing::ReadFile(path);
  REQUIRE(doc->SetObjectMass("red_cube", 0.5));
  // Into a folder that does not exist, and into a read-only folder (root ignores modes, so
  // that case needs a non-root user).
  const auto missing = doc->Save(dir.path() / "no_such_dir" / "x.pbtxt");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().where.file == (dir.path() / "no_such_dir" / "x.pbtxt").string());
  if (::geteuid() != 0) {
    ::chmod(dir.path().c_str(), 0500);
    CHECK_FALSE(doc->Save(path));
    ::chmod(dir.path().c_str(), 0700);
  }
  CHECK(pf::testing::ReadFile(path) == saved);
}

TEST_CASE("ScenarioDocument: an invalid file is an error with file, line and column", "[scenarios][document]") {
  assets::AssetLibrary library{assets::AssetResolver()};
  pf::testing::TempDir dir;
  const auto path = dir.Write("bad.pbtxt", "name: \"x\"\nobjects {\n  name: \"a\"\n  box { size { x: -1 y: 1 z: 1 } }\n}\n");
  auto doc = ScenarioDocument::Open(path.string(), library);
  REQUIRE_FALSE(doc);
  CHECK(doc.error().where.file == path.string());
  CHECK(doc.error().where.line == 4);
}

}  // namespace
}  // namespace pf::scenarios
