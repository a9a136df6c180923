// parafab-editor in a real window: CTest runs this binary under xvfb-run (an X server of its
// own), so every editor process here opens its window on that display. The editor runs with
// the Vulkan validation layer on and exits 3 on any validation message.
#include <catch2/catch.hpp>

#include <stb_image.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "pf/scenarios/document.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using Run = pf::testing::CommandResult;

// Runs the editor on `scenario` with the script `lines` and --exit; its output and code.
Run RunEditor(const pf::testing::TempDir& dir, const std::string& scenario, const std::vector<std::string>& lines,
              const std::string& extra = "") {
  if (std::getenv("DISPLAY") == nullptr) FAIL("no DISPLAY: run editor_test under xvfb-run (CTest does)");
  std::string script;
  for (const std::string& line : lines) script += line + "\n";
  const fs::path file = dir.Write("script.txt", script);
  return pf::testing::RunCommand("PARAFAB_VK_VALIDATION=1 " + std::string(PF_EDITOR_BIN) + " " + scenario +
                                 " --script " + file.string() + " --exit " + extra + " 2>&1");
}

struct Image {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgba;
  const std::uint8_t* At(int x, int y) const { return &rgba[(static_cast<std::size_t>(y) * width + x) * 4]; }
};

Image ReadPng(const fs::path& path) {
  Image image;
  int channels = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> data(stbi_load(path.c_str(), &image.width, &image.height, &channels, 4),
                                                 stbi_image_free);
  REQUIRE(data != nullptr);
  image.rgba.assign(data.get(), data.get() + static_cast<std::size_t>(image.width) * image.height * 4);
  return image;
}

TEST_CASE("editor: the default scenario in a window shows the scene and the panels", "[editor]") {
  pf::testing::TempDir dir;
  const fs::path shot = dir.path() / "shot.png";
  const Run r = RunEditor(dir, "builtin://default", {"frames 2", "screenshot " + shot.string(), "quit"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("ok: screenshot"));
  const Image image = ReadPng(shot);
  REQUIRE(image.width == 1280);
  REQUIRE(image.height == 800);
  // The viewport (between the panels) is a rendered scene: many colours, not one.
  std::set<std::uint32_t> colours;
  for (int y = 100; y < 700; y += 3)
    for (int x = 300; x < 900; x += 3) {
      const std::uint8_t* p = image.At(x, y);
      colours.insert(static_cast<std::uint32_t>(p[0]) << 16 | static_cast<std::uint32_t>(p[1]) << 8 | p[2]);
    }
  CHECK(colours.size() > 50);
  // The panels hold text: light pixels on the dark scene tree and inspector.
  auto light_pixels = [&](int x0, int x1, int y0, int y1) {
    int n = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) {
        const std::uint8_t* p = image.At(x, y);
        n += p[0] > 180 && p[1] > 180 && p[2] > 180;
      }
    return n;
  };
  CHECK(light_pixels(0, 250, 40, 260) > 200);     // scene tree
  CHECK(light_pixels(960, 1270, 20, 60) > 20);    // inspector title
  CHECK(light_pixels(0, 600, 780, 800) > 50);     // status bar
}

TEST_CASE("editor: a scripted session edits an object, adds one from the shared assets and saves exactly that",
          "[editor]") {
  const fs::path shared = pf::testing::RequireSharedAssets();
  pf::testing::TempDir dir;
  const fs::path original = dir.path() / "original.pbtxt";
  const fs::path edited = dir.path() / "edited.pbtxt";
  // The starting file: the default scenario saved as a file of its own.
  const Run first = RunEditor(dir, "builtin://default", {"save " + original.string(), "quit"});
  INFO(first.output);
  REQUIRE(first.exit_code == 0);
  const Run r = RunEditor(dir, original.string(),
                          {"select red_cube", "set position 0.45 0.05 0.425", "set mass 0.35", "set colour 0.1 0.8 0.3",
                           "add_object shared_cube " + (shared / "objects/cube.urdf").string() + " 0.55 0.15 0.45",
                           "select red_cube", "set mass -2", "save " + edited.string(), "quit"},
                          "--asset-root " + shared.string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("> set mass -2\nerror: "));  // refused, nothing changed
  pf::assets::AssetLibrary library{pf::assets::AssetResolver({shared})};
  auto before = pf::scenarios::ScenarioDocument::Open(original.string(), library);
  auto after = pf::scenarios::ScenarioDocument::Open(edited.string(), library);
  if (!before) FAIL(before.error().ToString());
  if (!after) FAIL(after.error().ToString());
  const std::vector<std::string> expected = {"objects[red_cube].pose", "objects[red_cube].mass",
                                             "objects[red_cube].color", "objects[shared_cube]"};
  CHECK(after->Differences(*before) == expected);
  const auto cube = after->Object("red_cube");
  REQUIRE(cube);
  CHECK(cube->mass == 0.35);
  CHECK(cube->pose.translation().isApprox(pf::core::Vec3(0.45, 0.05, 0.425)));
  CHECK(after->Object("shared_cube")->shape == "urdf");
}

TEST_CASE("editor: a click on an object's projected centre selects it, on the background clears", "[editor]") {
  pf::testing::TempDir dir;
  const Run r = RunEditor(dir, "builtin://default",
                          {"frames 1", "click_object green_cube", "click_object blue_cylinder", "click 600 60",
                           "select yellow_sphere", "frame", "frames 1", "click 605 408", "quit"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("selected: green_cube\n"));
  CHECK_THAT(r.output, Catch::Contains("selected: blue_cylinder\n"));
  CHECK_THAT(r.output, Catch::Contains("> click 600 60\nselected: \n"));
  // Framed, the selection sits at the viewport's centre (x 260 + 690 / 2, y 19 + 757 / 2).
  CHECK_THAT(r.output, Catch::Contains("> click 605 408\nselected: yellow_sphere\n"));
}

TEST_CASE("editor: an invalid scenario is an error with file and line and the editor stays usable", "[editor]") {
  pf::testing::TempDir dir;
  const fs::path bad = dir.Write("bad.pbtxt", "name: \"bad\"\nobjects {\n  name: \"a\"\n  box { size { x: -1 y: 1 z: 1 } }\n}\n");
  const fs::path shot = dir.path() / "dialog.png";
  const Run r = RunEditor(dir, "builtin://default",
                          {"open " + bad.string(), "screenshot " + shot.string(), "select red_cube", "set mass 0.2",
                           "quit"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("error: " + bad.string() + ":4:"));
  CHECK_THAT(r.output, Catch::Contains("> select red_cube\nok\n> set mass 0.2\nok\n"));
  // Opened with it: the same error, and the window still opens.
  const Run start = RunEditor(dir, bad.string(), {"frames 1", "quit"});
  INFO(start.output);
  CHECK(start.exit_code == 0);
  CHECK_THAT(start.output, Catch::Contains("error: " + bad.string() + ":4:"));
}

// A tmpfs mounted for the test, made read-only on demand (needs root, as CI has).
struct SmallFilesystem {
  fs::path dir;
  bool mounted = false;
  explicit SmallFilesystem(const fs::path& where) : dir(where) {
    fs::create_directories(dir);
    mounted = pf::testing::RunCommand("mount -t tmpfs -o size=1m tmpfs " + dir.string() + " 2>&1").exit_code == 0;
  }
  bool ReadOnly() const { return pf::testing::RunCommand("mount -o remount,ro " + dir.string() + " 2>&1").exit_code == 0; }
  ~SmallFilesystem() {
    if (mounted) pf::testing::RunCommand("umount " + dir.string() + " 2>&1");
  }
};

TEST_CASE("editor: a failing save is an error and the previous file stays intact", "[editor]") {
  pf::testing::TempDir dir;
  SmallFilesystem small(dir.path() / "mnt");
  if (!small.mounted) FAIL("cannot mount a tmpfs (the test needs root)");
  const fs::path file = small.dir / "scene.pbtxt";
  const Run saved = RunEditor(dir, "builtin://default", {"save " + file.string(), "quit"});
  INFO(saved.output);
  REQUIRE(saved.exit_code == 0);
  const std::string before = pf::testing::ReadFile(file);
  REQUIRE(small.ReadOnly());
  const Run r = RunEditor(dir, file.string(),
                          {"select red_cube", "set mass 0.5", "save", "save " + (dir.path() / "nodir/x.pbtxt").string(),
                           "quit"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("> save\nerror: " + file.string() + ": cannot save: Read-only file system"));
  CHECK_THAT(r.output, Catch::Contains("nodir/x.pbtxt: cannot save"));
  CHECK_THAT(r.output, Catch::Contains("unsaved changes discarded"));
  CHECK(pf::testing::ReadFile(file) == before);
}

TEST_CASE("editor: the task's expert runs live, the predicate is judged, resampling changes the episode", "[editor]") {
  pf::testing::TempDir dir;
  const fs::path shot = dir.path() / "task.png";
  const Run r = RunEditor(dir, "builtin://default",
                          {"frames 1", "status", "click_object green_cube", "expert on", "step 450", "status",
                           "resample 0 3", "status", "click_object green_cube", "screenshot " + shot.string(), "quit"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("> status\nstep 0, success no, dense reward 0, expert off"));
  // The expert's episode: its success judged by the task's predicate, not by the expert.
  CHECK_THAT(r.output, Catch::Contains("> status\nstep 450, success yes"));
  CHECK_THAT(r.output, Catch::Contains("> resample 0 3\nok\n> status\nstep 0, success no"));
  // Episode 3 puts the objects elsewhere: the green cube projects to another pixel.
  std::vector<std::string> clicks;
  for (std::size_t at = r.output.find("clicked "); at != std::string::npos; at = r.output.find("clicked ", at + 1))
    clicks.push_back(r.output.substr(at, r.output.find(',', at) - at));
  REQUIRE(clicks.size() == 2);
  CHECK(clicks[0] != clicks[1]);
  CHECK_THAT(r.output, Catch::Contains("selected: green_cube\n> expert on"));
  // The camera previews (RGB, depth, segmentation) sit at the viewport's bottom left.
  const Image image = ReadPng(shot);
  std::set<std::uint32_t> colours;
  for (int y = 650; y < 760; y += 2)
    for (int x = 270; x < 660; x += 2) {
      const std::uint8_t* p = image.At(x, y);
      colours.insert(static_cast<std::uint32_t>(p[0]) << 16 | static_cast<std::uint32_t>(p[1]) << 8 | p[2]);
    }
  CHECK(colours.size() > 30);
}

TEST_CASE("editor: the gizmo's handles move an object along one world axis and turn it about z", "[editor]") {
  pf::testing::TempDir dir;
  const fs::path a = dir.path() / "a.pbtxt", b = dir.path() / "b.pbtxt", c = dir.path() / "c.pbtxt";
  const Run r = RunEditor(dir, "builtin://default",
                          {"save " + a.string(), "select red_cube", "frames 1", "drag x 40 0", "frames 1",
                           "save " + b.string(), "drag rotate 0 30", "frames 1", "save " + c.string(), "quit"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("> drag x 40 0\nok"));
  pf::assets::AssetLibrary library{pf::assets::AssetResolver()};
  auto da = pf::scenarios::ScenarioDocument::Open(a.string(), library);
  auto db = pf::scenarios::ScenarioDocument::Open(b.string(), library);
  auto dc = pf::scenarios::ScenarioDocument::Open(c.string(), library);
  REQUIRE(da);
  REQUIRE(db);
  REQUIRE(dc);
  CHECK(db->Differences(*da) == std::vector<std::string>{"objects[red_cube].pose"});
  const auto before = da->Object("red_cube")->pose, moved = db->Object("red_cube")->pose,
             turned = dc->Object("red_cube")->pose;
  const pf::core::Vec3 step = moved.translation() - before.translation();
  INFO("moved by " << step.transpose());
  CHECK(std::abs(step.x()) > 0.005);  // along x only
  CHECK(std::abs(step.y()) < 1e-9);
  CHECK(std::abs(step.z()) < 1e-9);
  CHECK(moved.rotation().isApprox(before.rotation()));
  // The ring turns it about world z in place.
  CHECK(turned.translation().isApprox(moved.translation()));
  const pf::core::Mat3 turn = turned.rotation() * moved.rotation().transpose();
  CHECK(std::abs(turn(2, 2) - 1.0) < 1e-9);
  CHECK(std::abs(std::atan2(turn(1, 0), turn(0, 0))) > 0.05);
}

TEST_CASE("editor: a placement region is edited, a region too small for its objects is refused", "[editor]") {
  pf::testing::TempDir dir;
  const fs::path a = dir.path() / "a.pbtxt", b = dir.path() / "b.pbtxt";
  const Run r = RunEditor(dir, "builtin://default",
                          {"save " + a.string(), "select red_cube", "set_region 0 0.40 -0.24 0.40 0.64 0.08 0.40",
                           "set_region 0 0.40 -0.24 0.40 0.401 -0.239 0.40", "save " + b.string(), "quit"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("> set_region 0 0.40 -0.24 0.40 0.401 -0.239 0.40\nerror: "));
  pf::assets::AssetLibrary library{pf::assets::AssetResolver()};
  auto da = pf::scenarios::ScenarioDocument::Open(a.string(), library);
  auto db = pf::scenarios::ScenarioDocument::Open(b.string(), library);
  REQUIRE(da);
  REQUIRE(db);
  CHECK(db->Differences(*da) == std::vector<std::string>{"randomization.placements[0].region"});
  CHECK(db->scenario().randomization.placements[0].region.max.x() == 0.64);
}

TEST_CASE("editor: undo and redo walk the edits back and forth", "[editor]") {
  pf::testing::TempDir dir;
  const fs::path a = dir.path() / "a.pbtxt", b = dir.path() / "b.pbtxt";
  const Run r = RunEditor(dir, "builtin://default",
                          {"save " + a.string(), "select red_cube", "set mass 0.3", "set friction 0.4", "undo", "undo",
                           "redo", "save " + b.string(), "undo", "undo", "redo", "redo", "redo", "quit"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  pf::assets::AssetLibrary library{pf::assets::AssetResolver()};
  auto da = pf::scenarios::ScenarioDocument::Open(a.string(), library);
  auto db = pf::scenarios::ScenarioDocument::Open(b.string(), library);
  REQUIRE(da);
  REQUIRE(db);
  CHECK(db->Differences(*da) == std::vector<std::string>{"objects[red_cube].mass"});
  CHECK_THAT(r.output, Catch::Contains("> redo\nerror: nothing to redo\n> quit\nok: unsaved changes discarded\n"));
}

}  // namespace
