#include "placement.h"

#include <algorithm>
#include <cmath>

namespace pf::scenarios::internal {

std::optional<core::Vec3> PrimitiveHalfExtents(const sim::ObjectSpec& object) {
  switch (object.shape) {
    case sim::ObjectShape::kBox: return core::Vec3(object.size / 2.0);
    case sim::ObjectShape::kSphere: return core::Vec3::Constant(object.radius);
    case sim::ObjectShape::kCylinder: return core::Vec3(object.radius, object.radius, object.length / 2.0);
    case sim::ObjectShape::kUrdf: return std::nullopt;
  }
  return std::nullopt;
}

PlacementWorld::Box ObjectBox(const sim::ObjectSpec& object, const core::Pose& X_WO) {
  const core::Vec3 h = PrimitiveHalfExtents(object).value_or(core::Vec3::Zero());
  const core::Vec3 e = X_WO.rotation().cwiseAbs() * h;
  return {X_WO.translation() - e, X_WO.translation() + e};
}

bool PlacementWorld::Free(double x, double y, double radius, double clearance) const {
  for (const Circle& c : placed)
    if (std::hypot(x - c.x, y - c.y) < radius + c.radius + clearance) return false;
  for (const Box& b : obstacles) {
    const double dx = std::max({b.min.x() - x, 0.0, x - b.max.x()});
    const double dy = std::max({b.min.y() - y, 0.0, y - b.max.y()});
    if (std::hypot(dx, dy) < radius + clearance) return false;
  }
  return true;
}

PlacementWorld MakePlacementWorld(const sim::ModelSpec& model, const std::vector<PlacementSpec>& placements,
                                  double support_z) {
  PlacementWorld world;
  std::vector<bool> moved(model.objects.size(), false);
  for (const PlacementSpec& p : placements)
    for (int o : p.objects) moved[static_cast<std::size_t>(o)] = true;
  for (std::size_t o = 0; o < model.objects.size(); ++o) {
    const sim::ObjectSpec& object = model.objects[o];
    if (moved[o]) continue;
    const PlacementWorld::Box box = ObjectBox(object, object.X_WO);
    if (object.mass > 0.0 || (box.max.z() > support_z + 1e-3 && box.min.z() < support_z + 1e-3))
      world.obstacles.push_back(box);
  }
  return world;
}

namespace {
bool PlaceObjectsOnce(const sim::ModelSpec& model, const PlacementSpec& placement, core::CounterRng& rng,
                      PlacementWorld& world, std::vector<core::Pose>& poses,
                      std::vector<std::pair<std::string, double>>* draws, int attempts);
}  // namespace

bool PlaceObjects(const sim::ModelSpec& model, const PlacementSpec& placement, core::CounterRng& rng,
                  PlacementWorld& world, std::vector<core::Pose>& poses,
                  std::vector<std::pair<std::string, double>>* draws, int attempts, int restarts) {
  const std::size_t placed_before = world.placed.size();
  const std::size_t draws_before = draws != nullptr ? draws->size() : 0;
  for (int round = 0; round <= restarts; ++round) {
    world.placed.resize(placed_before);
    if (draws != nullptr) draws->resize(draws_before);
    if (PlaceObjectsOnce(model, placement, rng, world, poses, draws, attempts)) return true;
  }
  return false;
}

namespace {
bool PlaceObjectsOnce(const sim::ModelSpec& model, const PlacementSpec& placement, core::CounterRng& rng,
                      PlacementWorld& world, std::vector<core::Pose>& poses,
                      std::vector<std::pair<std::string, double>>* draws, int attempts) {
  const RegionSpec& region = placement.region;
  for (int o : placement.objects) {
    const sim::ObjectSpec& object = model.objects[static_cast<std::size_t>(o)];
    const core::Vec3 h = PrimitiveHalfExtents(object).value_or(core::Vec3::Zero());
    // Yaw about world z on top of the orientation the scenario gives the object.
    const core::Mat3 R0 = object.X_WO.rotation();
    const core::Vec3 e0 = R0.cwiseAbs() * h;  // world half extents before the yaw
    const double radius = std::hypot(e0.x(), e0.y());
    bool done = false;
    for (int attempt = 0; attempt < attempts && !done; ++attempt) {
      const double yaw = rng.Uniform(placement.yaw.min, placement.yaw.max);
      const double x = rng.Uniform(region.min.x(), region.max.x());
      const double y = rng.Uniform(region.min.y(), region.max.y());
      if (!world.Free(x, y, radius, placement.clearance)) continue;
      core::Pose X_WO = core::Pose::Identity();
      X_WO.linear() = core::Quat(Eigen::AngleAxisd(yaw, core::Vec3::UnitZ())).toRotationMatrix() * R0;
      X_WO.translation() = core::Vec3(x, y, region.min.z() + e0.z());
      poses[static_cast<std::size_t>(o)] = X_WO;
      world.placed.push_back({x, y, radius});
      if (draws != nullptr) {
        draws->emplace_back(object.name + ".x", x);
        draws->emplace_back(object.name + ".y", y);
        draws->emplace_back(object.name + ".yaw", yaw);
      }
      done = true;
    }
    if (!done) return false;
  }
  return true;
}

}  // namespace

}  // namespace pf::scenarios::internal
