// Internal to scenarios/: non-penetrating random placement of objects in regions of a
// support surface, used by the scenario compiler (is every region big enough?) and by
// DrawEpisode.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pf/core/math.h"
#include "pf/core/rng.h"
#include "pf/scenarios/task.h"
#include "pf/sim/model_spec.h"

namespace pf::scenarios::internal {

// Half extents of an object's shape in its own frame (metres); nullopt for URDF objects.
std::optional<core::Vec3> PrimitiveHalfExtents(const sim::ObjectSpec& object);

// What the placement sees of the world: obstacles' xy boxes and placed objects' circles.
struct PlacementWorld {
  struct Box { core::Vec3 min, max; };  // world AABB
  struct Circle { double x, y, radius; };
  std::vector<Box> obstacles;
  std::vector<Circle> placed;
  bool Free(double x, double y, double radius, double clearance) const;
};

// The obstacles for placements on a support surface at height `support_z`: static objects
// that stick up through it (trays, bins, walls) and movable objects that no placement moves.
PlacementWorld MakePlacementWorld(const sim::ModelSpec& model, const std::vector<PlacementSpec>& placements,
                                  double support_z);

// World AABB of an object at pose X_WO (primitives; URDF objects: a point).
PlacementWorld::Box ObjectBox(const sim::ObjectSpec& object, const core::Pose& X_WO);

// Places every object of `placement`: yaw drawn in its range, origin drawn in the region
// until its bounding circle is clear of everything placed so far (at most `attempts` tries
// per object). When an object finds no room (a crowded region, early objects badly
// placed), the whole placement starts again with the generator's next draws, up to
// `restarts` times. Writes poses[o] and appends the draws (name, value) of the placement
// that succeeded. false = no room.
bool PlaceObjects(const sim::ModelSpec& model, const PlacementSpec& placement, core::CounterRng& rng,
                  PlacementWorld& world, std::vector<core::Pose>& poses,
                  std::vector<std::pair<std::string, double>>* draws, int attempts = 300, int restarts = 20);

}  // namespace pf::scenarios::internal
