// ScenarioDocument: a scenario file being edited (the editor's model). It holds the parsed
// message and changes it field by field through plain C++ calls; protobuf stays private to
// scenarios/. Every edit is checked the way a loaded file is (names, ranges, URDFs): an edit
// that would make the scenario invalid is refused and leaves the document as it was.
//
// Saving keeps the file's own text where the content did not change: every top-level entry
// (the name, physics, each robot and object by name, each camera, the task, ...) that is
// equal to what was loaded is written back as it was, comments and layout included, in the
// file's order; a changed entry is printed anew (protobuf text format) under the comment
// lines that preceded it; new entries follow the last of their kind. Load → save → load
// gives the same scenario (the same hash), and an unedited document saves byte for byte.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pf/assets/library.h"
#include "pf/core/math.h"
#include "pf/core/result.h"
#include "pf/scenarios/scenario.h"

namespace pf::scenarios {

// What the inspector shows of an object.
struct ObjectFields {
  std::string name;
  std::string shape;  // "box", "sphere", "cylinder" or "urdf"
  std::string urdf;   // the urdf path as written, for urdf objects
  core::Pose pose = core::Pose::Identity();
  std::optional<double> mass, friction, restitution;  // unset = the defaults (scenario.proto)
  std::optional<core::Vec4> colour;                    // unset = light grey
  std::string semantic_class;
};

class ScenarioDocument {
 public:
  // A scenario file or builtin://NAME, checked as LoadScenario checks it.
  static core::Result<ScenarioDocument> Open(const std::string& path_or_builtin, assets::AssetLibrary& library);
  // Text; `source` names it in errors and anchors relative URDF paths.
  static core::Result<ScenarioDocument> FromText(std::string_view text, const std::filesystem::path& source,
                                                 assets::AssetLibrary& library);
  ScenarioDocument(const ScenarioDocument& other);
  ScenarioDocument& operator=(const ScenarioDocument& other);
  ScenarioDocument(ScenarioDocument&&) noexcept;
  ScenarioDocument& operator=(ScenarioDocument&&) noexcept;
  ~ScenarioDocument();

  const std::filesystem::path& source() const;
  // The content as protobuf text (what Save writes).
  std::string Text() const;
  // The content compiled (Scenario: the model, task, cameras, ...); valid by construction.
  const Scenario& scenario() const;

  std::vector<std::string> RobotNames() const;
  std::vector<std::string> ObjectNames() const;
  core::Result<ObjectFields> Object(std::string_view name) const;

  // Edits of one object, named by its name. Each fails (naming the field) on an unknown
  // object or a value the schema refuses, and then changes nothing.
  core::Status SetObjectPose(std::string_view name, const core::Pose& pose);
  core::Status SetObjectMass(std::string_view name, double kg);
  core::Status SetObjectFriction(std::string_view name, double friction);
  core::Status SetObjectRestitution(std::string_view name, double restitution);
  core::Status SetObjectColour(std::string_view name, const core::Vec4& rgba);
  core::Status SetObjectSemanticClass(std::string_view name, std::string_view semantic_class);
  // A new object from a single-link URDF (a path inside the asset roots, or builtin://NAME)
  // at `pose`; `name` must be new.
  core::Status AddUrdfObject(std::string_view name, std::string_view urdf, const core::Pose& pose);
  core::Status RemoveObject(std::string_view name);
  // Randomization: the region of placement `index` (randomization.placements[index]), where
  // its objects' origins are drawn (x, y) and rest (min z).
  core::Status SetPlacementRegion(int index, const RegionSpec& region);

  // Paths of the fields whose values differ from `other`, e.g. "objects[cube].mass",
  // "objects[mug]" (added or removed), "physics"; empty when the contents are equal.
  std::vector<std::string> Differences(const ScenarioDocument& other) const;

  // Writes Text() to `path` through a temporary file and a rename, so a failure leaves any
  // previous file intact; the document's source becomes `path`.
  core::Status Save(const std::filesystem::path& path);

 private:
  struct Impl;
  explicit ScenarioDocument(std::unique_ptr<Impl> impl);
  // Applies `edit` to a copy of the message, checks the result, keeps it when valid.
  template <class Edit>
  core::Status Apply(std::string_view object, Edit edit);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pf::scenarios
