#include "pf/assets/urdf.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <Eigen/Eigenvalues>
#include <tinyxml2.h>

#include "pf/core/log.h"
#include "pf/core/str.h"

namespace pf::assets {
namespace {

using tinyxml2::XMLElement;
using core::Fail;
using core::StrCat;

class UrdfParser {
 public:
  UrdfParser(const fs::path& path, const AssetResolver& resolver, Warnings* warnings,
             const UrdfConfig& config)
      : path_(path), file_(path.string()), resolver_(resolver), warnings_(warnings), config_(config) {}

  core::Result<RobotDesc> Parse(std::string_view text);

 private:
  core::Location Loc(const XMLElement* e, std::string field) const {
    return {file_, e != nullptr ? e->GetLineNum() : 0, 0, std::move(field)};
  }
  void Warn(core::Location where, std::string message) const {
    core::Error w{std::move(message), std::move(where)};
    core::LogWarning(w.ToString());
    if (warnings_ != nullptr) warnings_->push_back(std::move(w));
  }

  core::Result<double> Number(const XMLElement* e, const char* attr, const std::string& field,
                              std::optional<double> fallback) const;
  core::Result<std::vector<double>> Numbers(const XMLElement* e, const char* attr,
                                            const std::string& field) const;
  core::Result<core::Vec3> Vec3Attr(const XMLElement* e, const char* attr, const std::string& field,
                                    const core::Vec3& fallback) const;
  core::Result<core::Pose> Origin(const XMLElement* parent, const std::string& field) const;
  core::Result<std::string> Name(const XMLElement* e, const char* attr, const std::string& field) const;
  core::Result<Geometry> ParseGeometry(const XMLElement* parent, const std::string& field);
  core::Result<int> ParseMaterial(const XMLElement* e, const std::string& field, bool top_level);
  core::Result<LinkDesc> ParseLink(const XMLElement* e);
  core::Result<JointDesc> ParseJoint(const XMLElement* e, const std::map<std::string, int>& links);

  const fs::path& path_;
  std::string file_;
  const AssetResolver& resolver_;
  Warnings* warnings_;
  UrdfConfig config_;
  RobotDesc robot_;
};

core::Result<std::vector<double>> UrdfParser::Numbers(const XMLElement* e, const char* attr,
                                                      const std::string& field) const {
  const char* value = e->Attribute(attr);
  std::vector<double> out;
  if (value == nullptr) return out;
  std::string_view rest(value);
  // xacro left unexpanded: `$(optenv NAME default...)` takes its default (environment
  // variables never change a robot, so runs stay reproducible); other forms need xacro.
  std::string substituted;
  if (rest.find("$(") != std::string_view::npos) {
    constexpr std::string_view kOptenv = "$(optenv ";
    const std::size_t close = rest.rfind(')');
    if (rest.substr(0, kOptenv.size()) != kOptenv || close != rest.size() - 1)
      return Fail(StrCat("'", rest, "' is an unexpanded xacro expression; run xacro on the file first"),
                  Loc(e, field));
    std::string_view inner = rest.substr(kOptenv.size(), close - kOptenv.size());
    const std::size_t space = inner.find(' ');
    if (space == std::string_view::npos)
      return Fail(StrCat("'", rest, "' has no default value; run xacro on the file first"), Loc(e, field));
    substituted = std::string(inner.substr(space + 1));
    Warn(Loc(e, field), StrCat("unexpanded xacro '", rest, "': using its default '", substituted, "'"));
    rest = substituted;
  }
  while (true) {
    std::size_t i = 0;
    while (i < rest.size() && std::isspace(static_cast<unsigned char>(rest[i]))) ++i;
    rest.remove_prefix(i);
    if (rest.empty()) break;
    std::size_t end = 0;
    while (end < rest.size() && !std::isspace(static_cast<unsigned char>(rest[end]))) ++end;
    std::string_view token = rest.substr(0, end);
    std::string_view digits = token;
    if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
    double v = 0.0;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || ptr != digits.data() + digits.size())
      return Fail(StrCat("'", token, "' is not a number"), Loc(e, field));
    if (!std::isfinite(v)) return Fail(StrCat("'", token, "' is not a finite number"), Loc(e, field));
    out.push_back(v);
    rest.remove_prefix(end);
  }
  return out;
}

core::Result<double> UrdfParser::Number(const XMLElement* e, const char* attr, const std::string& field,
                                        std::optional<double> fallback) const {
  if (e->Attribute(attr) == nullptr) {
    if (fallback) return *fallback;
    return Fail(StrCat("missing required attribute '", attr, "'"), Loc(e, field));
  }
  PF_ASSIGN_OR_RETURN(auto values, Numbers(e, attr, field));
  if (values.size() != 1)
    return Fail(StrCat("expected one number, found ", values.size()), Loc(e, field));
  return values[0];
}

core::Result<core::Vec3> UrdfParser::Vec3Attr(const XMLElement* e, const char* attr,
                                              const std::string& field, const core::Vec3& fallback) const {
  if (e == nullptr || e->Attribute(attr) == nullptr) return fallback;
  PF_ASSIGN_OR_RETURN(auto values, Numbers(e, attr, field));
  if (values.size() != 3)
    return Fail(StrCat("expected three numbers, found ", values.size()), Loc(e, field));
  return core::Vec3(values[0], values[1], values[2]);
}

core::Result<core::Pose> UrdfParser::Origin(const XMLElement* parent, const std::string& field) const {
  const XMLElement* origin = parent->FirstChildElement("origin");
  PF_ASSIGN_OR_RETURN(core::Vec3 xyz, Vec3Attr(origin, "xyz", field + ".origin.xyz", core::Vec3::Zero()));
  PF_ASSIGN_OR_RETURN(core::Vec3 rpy, Vec3Attr(origin, "rpy", field + ".origin.rpy", core::Vec3::Zero()));
  return core::MakePose(xyz, core::QuatFromRpy(rpy.x(), rpy.y(), rpy.z()));
}

core::Result<std::string> UrdfParser::Name(const XMLElement* e, const char* attr,
                                           const std::string& field) const {
  const char* value = e->Attribute(attr);
  if (value == nullptr || value[0] == '\0')
    return Fail(StrCat("missing required attribute '", attr, "'"), Loc(e, field));
  return std::string(value);
}

core::Result<Geometry> UrdfParser::ParseGeometry(const XMLElement* parent, const std::string& field) {
  const XMLElement* geometry = parent->FirstChildElement("geometry");
  if (geometry == nullptr) return Fail("missing <geometry>", Loc(parent, field));
  const XMLElement* shape = geometry->FirstChildElement();
  if (shape == nullptr) return Fail("empty <geometry>", Loc(geometry, field + ".geometry"));
  const std::string kind = shape->Name();
  const std::string f = field + ".geometry." + kind;
  Geometry g;
  auto positive = [&](double v, const char* what) -> core::Status {
    if (v < 0.0) return Fail(StrCat(what, " must not be negative, got ", v), Loc(shape, f + "." + what));
    return core::Ok();
  };
  if (kind == "box") {
    g.type = GeometryType::kBox;
    PF_ASSIGN_OR_RETURN(auto size, Numbers(shape, "size", f + ".size"));
    if (size.size() != 3) return Fail(StrCat("box size needs three numbers, found ", size.size()), Loc(shape, f + ".size"));
    g.size = core::Vec3(size[0], size[1], size[2]);
    for (double s : size) PF_TRY(positive(s, "size"));
  } else if (kind == "cylinder" || kind == "capsule") {
    g.type = kind == "cylinder" ? GeometryType::kCylinder : GeometryType::kCapsule;
    PF_ASSIGN_OR_RETURN(g.radius, Number(shape, "radius", f + ".radius", std::nullopt));
    PF_ASSIGN_OR_RETURN(g.length, Number(shape, "length", f + ".length", std::nullopt));
    PF_TRY(positive(g.radius, "radius"));
    PF_TRY(positive(g.length, "length"));
  } else if (kind == "sphere") {
    g.type = GeometryType::kSphere;
    PF_ASSIGN_OR_RETURN(g.radius, Number(shape, "radius", f + ".radius", std::nullopt));
    PF_TRY(positive(g.radius, "radius"));
  } else if (kind == "mesh") {
    g.type = GeometryType::kMesh;
    PF_ASSIGN_OR_RETURN(g.mesh_reference, Name(shape, "filename", f + ".filename"));
    PF_ASSIGN_OR_RETURN(auto scale, Numbers(shape, "scale", f + ".scale"));
    if (scale.size() == 1) g.scale = core::Vec3::Constant(scale[0]);
    else if (scale.size() == 3) g.scale = core::Vec3(scale[0], scale[1], scale[2]);
    else if (!scale.empty())
      return Fail(StrCat("mesh scale needs one or three numbers, found ", scale.size()), Loc(shape, f + ".scale"));
    if (g.scale.minCoeff() <= 0.0)
      return Fail("mesh scale must be positive", Loc(shape, f + ".scale"));
    auto resolved = resolver_.Resolve(g.mesh_reference, path_, Loc(shape, f + ".filename"));
    if (resolved) {
      g.mesh_path = *resolved;
    } else if (config_.require_meshes) {
      return std::unexpected(resolved.error());
    } else {
      Warn(resolved.error().where, resolved.error().message);
    }
  } else {
    return Fail(StrCat("unknown geometry <", kind, "> (expected box, cylinder, sphere, capsule or mesh)"),
                Loc(shape, f));
  }
  return g;
}

// Parses a <material>; returns its index in robot_.materials, or -1 for an unknown reference.
core::Result<int> UrdfParser::ParseMaterial(const XMLElement* e, const std::string& field, bool top_level) {
  const char* name_attr = e->Attribute("name");
  const std::string name = name_attr != nullptr ? name_attr : "";
  const XMLElement* colour = e->FirstChildElement("color");
  const XMLElement* texture = e->FirstChildElement("texture");
  const std::string f = field + ".material[" + name + "]";
  if (colour == nullptr && texture == nullptr) {
    for (std::size_t i = 0; i < robot_.materials.size(); ++i)
      if (robot_.materials[i].name == name) return static_cast<int>(i);
    if (top_level) return Fail("material defines neither <color> nor <texture>", Loc(e, f));
    Warn(Loc(e, f), StrCat("material '", name, "' is not defined; the visual uses the default colour"));
    return -1;
  }
  MaterialDesc m;
  m.name = name;
  if (colour != nullptr) {
    PF_ASSIGN_OR_RETURN(auto rgba, Numbers(colour, "rgba", f + ".color.rgba"));
    if (rgba.size() != 4)
      return Fail(StrCat("rgba needs four numbers, found ", rgba.size()), Loc(colour, f + ".color.rgba"));
    for (double c : rgba)
      if (c < 0.0 || c > 1.0)
        return Fail(StrCat("colour component ", c, " is outside [0, 1]"), Loc(colour, f + ".color.rgba"));
    m.rgba = core::Vec4(rgba[0], rgba[1], rgba[2], rgba[3]);
  }
  if (texture != nullptr && texture->Attribute("filename") != nullptr) {
    m.texture_reference = texture->Attribute("filename");
    auto resolved = resolver_.Resolve(m.texture_reference, path_, Loc(texture, f + ".texture.filename"));
    if (resolved) m.texture_path = *resolved;
    else Warn(resolved.error().where, resolved.error().message + "; the material uses its colour");
  }
  // A local material with content replaces nothing: it becomes its own entry.
  if (top_level) {
    for (const auto& existing : robot_.materials)
      if (!name.empty() && existing.name == name)
        return Fail(StrCat("material '", name, "' is defined twice"), Loc(e, f));
  }
  robot_.materials.push_back(std::move(m));
  return static_cast<int>(robot_.materials.size()) - 1;
}

core::Result<LinkDesc> UrdfParser::ParseLink(const XMLElement* e) {
  LinkDesc link;
  link.line = e->GetLineNum();
  PF_ASSIGN_OR_RETURN(link.name, Name(e, "name", "link"));
  const std::string f = "link[" + link.name + "]";

  int inertia_line = 0;
  core::Vec3 singular_eigenvalues = core::Vec3::Zero();
  if (const XMLElement* inertial = e->FirstChildElement("inertial")) {
    InertialDesc in;
    PF_ASSIGN_OR_RETURN(in.X_LI, Origin(inertial, f + ".inertial"));
    const XMLElement* mass = inertial->FirstChildElement("mass");
    if (mass == nullptr) return Fail("<inertial> without <mass>", Loc(inertial, f + ".inertial"));
    PF_ASSIGN_OR_RETURN(in.mass, Number(mass, "value", f + ".inertial.mass.value", std::nullopt));
    if (in.mass < 0.0)
      return Fail(StrCat("negative mass ", in.mass), Loc(mass, f + ".inertial.mass.value"));
    if (const XMLElement* inertia = inertial->FirstChildElement("inertia")) {
      const std::string fi = f + ".inertial.inertia";
      PF_ASSIGN_OR_RETURN(double ixx, Number(inertia, "ixx", fi + ".ixx", 0.0));
      PF_ASSIGN_OR_RETURN(double ixy, Number(inertia, "ixy", fi + ".ixy", 0.0));
      PF_ASSIGN_OR_RETURN(double ixz, Number(inertia, "ixz", fi + ".ixz", 0.0));
      PF_ASSIGN_OR_RETURN(double iyy, Number(inertia, "iyy", fi + ".iyy", 0.0));
      PF_ASSIGN_OR_RETURN(double iyz, Number(inertia, "iyz", fi + ".iyz", 0.0));
      PF_ASSIGN_OR_RETURN(double izz, Number(inertia, "izz", fi + ".izz", 0.0));
      in.I_I << ixx, ixy, ixz, ixy, iyy, iyz, ixz, iyz, izz;
      const Eigen::SelfAdjointEigenSolver<core::Mat3> solver(in.I_I, Eigen::EigenvaluesOnly);
      const core::Vec3 ev = solver.eigenvalues();
      const double tolerance = 1e-12 * std::max(1.0, ev.cwiseAbs().maxCoeff());
      if (ev.minCoeff() < -tolerance)
        return Fail(StrCat("inertia is not positive definite (eigenvalues ", ev.x(), ", ", ev.y(), ", ",
                           ev.z(), ")"),
                    Loc(inertia, fi));
      if (in.mass > 0.0 && ev.minCoeff() <= tolerance) {
        // Singular (a zero principal moment): checked against the collision geometry below.
        in.derive_from_collision = true;
        inertia_line = inertia->GetLineNum();
        singular_eigenvalues = ev;
      } else if (in.mass > 0.0 && (ev[0] + ev[1] < ev[2] * (1.0 - 1e-6))) {
        Warn(Loc(inertia, fi), StrCat("principal moments ", ev.x(), ", ", ev.y(), ", ", ev.z(),
                                      " violate the triangle inequality (not a physical body)"));
      }
    } else if (in.mass > 0.0) {
      return Fail("<inertial> with positive mass but no <inertia>", Loc(inertial, f + ".inertial"));
    }
    link.inertial = in;
  }

  int index = 0;
  for (const XMLElement* v = e->FirstChildElement("visual"); v; v = v->NextSiblingElement("visual"), ++index) {
    VisualDesc visual;
    visual.line = v->GetLineNum();
    if (const char* n = v->Attribute("name")) visual.name = n;
    const std::string fv = f + ".visual[" + std::to_string(index) + "]";
    PF_ASSIGN_OR_RETURN(visual.X_LG, Origin(v, fv));
    PF_ASSIGN_OR_RETURN(visual.geometry, ParseGeometry(v, fv));
    if (const XMLElement* m = v->FirstChildElement("material")) {
      PF_ASSIGN_OR_RETURN(visual.material, ParseMaterial(m, fv, false));
    }
    link.visuals.push_back(std::move(visual));
  }
  index = 0;
  for (const XMLElement* c = e->FirstChildElement("collision"); c;
       c = c->NextSiblingElement("collision"), ++index) {
    CollisionDesc collision;
    collision.line = c->GetLineNum();
    if (const char* n = c->Attribute("name")) collision.name = n;
    const std::string fc = f + ".collision[" + std::to_string(index) + "]";
    PF_ASSIGN_OR_RETURN(collision.X_LG, Origin(c, fc));
    PF_ASSIGN_OR_RETURN(collision.geometry, ParseGeometry(c, fc));
    link.collisions.push_back(std::move(collision));
  }
  if (const XMLElement* contact = e->FirstChildElement("contact")) {
    ContactDesc cd;
    const std::string fc = f + ".contact";
    auto read = [&](const char* tag, std::optional<double>& out) -> core::Status {
      if (const XMLElement* x = contact->FirstChildElement(tag)) {
        PF_ASSIGN_OR_RETURN(double v, Number(x, "value", fc + "." + tag + ".value", std::nullopt));
        if (v < 0.0) return Fail(StrCat(tag, " must not be negative, got ", v), Loc(x, fc + "." + tag));
        out = v;
      }
      return core::Ok();
    };
    PF_TRY(read("lateral_friction", cd.lateral_friction));
    PF_TRY(read("rolling_friction", cd.rolling_friction));
    PF_TRY(read("spinning_friction", cd.spinning_friction));
    PF_TRY(read("restitution", cd.restitution));
    PF_TRY(read("stiffness", cd.stiffness));
    PF_TRY(read("damping", cd.damping));
    PF_TRY(read("inertia_scaling", cd.inertia_scaling));
    link.contact = cd;
  }
  if (link.inertial && link.inertial->derive_from_collision) {
    const core::Location where{file_, inertia_line, 0, f + ".inertial.inertia"};
    const std::string moments = StrCat("eigenvalues ", singular_eigenvalues.x(), ", ", singular_eigenvalues.y(),
                                       ", ", singular_eigenvalues.z());
    if (link.collisions.empty())
      return Fail(StrCat("inertia is not positive definite (", moments,
                         ") and the link has no collision geometry to derive one from"),
                  where);
    Warn(where, StrCat("inertia is singular (", moments,
                       "); it is derived from the collision geometry at the given mass and centre of mass"));
  }
  return link;
}

core::Result<JointDesc> UrdfParser::ParseJoint(const XMLElement* e, const std::map<std::string, int>& links) {
  JointDesc joint;
  joint.line = e->GetLineNum();
  PF_ASSIGN_OR_RETURN(joint.name, Name(e, "name", "joint"));
  const std::string f = "joint[" + joint.name + "]";
  PF_ASSIGN_OR_RETURN(const std::string type, Name(e, "type", f + ".type"));
  static const std::map<std::string, JointType> kTypes = {
      {"revolute", JointType::kRevolute}, {"continuous", JointType::kContinuous},
      {"prismatic", JointType::kPrismatic}, {"fixed", JointType::kFixed},
      {"floating", JointType::kFloating}, {"planar", JointType::kPlanar}};
  const auto it = kTypes.find(type);
  if (it == kTypes.end())
    return Fail(StrCat("unknown joint type '", type,
                       "' (expected revolute, continuous, prismatic, fixed, floating or planar)"),
                Loc(e, f + ".type"));
  joint.type = it->second;
  PF_ASSIGN_OR_RETURN(joint.X_PJ, Origin(e, f));

  auto link_ref = [&](const char* tag, int& out) -> core::Status {
    const XMLElement* x = e->FirstChildElement(tag);
    if (x == nullptr) return Fail(StrCat("missing <", tag, ">"), Loc(e, f + "." + tag));
    PF_ASSIGN_OR_RETURN(const std::string name, Name(x, "link", f + "." + tag + ".link"));
    const auto found = links.find(name);
    if (found == links.end())
      return Fail(StrCat(tag, " link '", name, "' is not defined"), Loc(x, f + "." + tag + ".link"));
    out = found->second;
    return core::Ok();
  };
  PF_TRY(link_ref("parent", joint.parent_link));
  PF_TRY(link_ref("child", joint.child_link));
  if (joint.parent_link == joint.child_link)
    return Fail("joint connects a link to itself (a cycle)", Loc(e, f));

  const XMLElement* axis = e->FirstChildElement("axis");
  PF_ASSIGN_OR_RETURN(joint.axis, Vec3Attr(axis, "xyz", f + ".axis.xyz", core::Vec3::UnitX()));
  if (JointDofs(joint.type) > 0 && joint.type != JointType::kFloating) {
    if (joint.axis.norm() < 1e-12) return Fail("joint axis is zero", Loc(axis, f + ".axis.xyz"));
    joint.axis.normalize();
  }

  if (const XMLElement* limit = e->FirstChildElement("limit")) {
    JointLimits l;
    PF_ASSIGN_OR_RETURN(l.lower, Number(limit, "lower", f + ".limit.lower", 0.0));
    PF_ASSIGN_OR_RETURN(l.upper, Number(limit, "upper", f + ".limit.upper", 0.0));
    PF_ASSIGN_OR_RETURN(l.effort, Number(limit, "effort", f + ".limit.effort", 0.0));
    PF_ASSIGN_OR_RETURN(l.velocity, Number(limit, "velocity", f + ".limit.velocity", 0.0));
    if (l.lower > l.upper)
      return Fail(StrCat("lower limit ", l.lower, " is above upper limit ", l.upper), Loc(limit, f + ".limit"));
    if (l.effort < 0.0) return Fail("negative effort limit", Loc(limit, f + ".limit.effort"));
    if (l.velocity < 0.0) return Fail("negative velocity limit", Loc(limit, f + ".limit.velocity"));
    joint.limits = l;
  } else if (joint.type == JointType::kRevolute || joint.type == JointType::kPrismatic) {
    return Fail(StrCat(type, " joint needs a <limit>"), Loc(e, f + ".limit"));
  }
  if (const XMLElement* dynamics = e->FirstChildElement("dynamics")) {
    PF_ASSIGN_OR_RETURN(joint.damping, Number(dynamics, "damping", f + ".dynamics.damping", 0.0));
    PF_ASSIGN_OR_RETURN(joint.friction, Number(dynamics, "friction", f + ".dynamics.friction", 0.0));
    if (joint.damping < 0.0) return Fail("negative damping", Loc(dynamics, f + ".dynamics.damping"));
    if (joint.friction < 0.0) return Fail("negative friction", Loc(dynamics, f + ".dynamics.friction"));
  }
  if (const XMLElement* mimic = e->FirstChildElement("mimic")) {
    MimicDesc m;
    PF_ASSIGN_OR_RETURN(m.joint, Name(mimic, "joint", f + ".mimic.joint"));
    PF_ASSIGN_OR_RETURN(m.multiplier, Number(mimic, "multiplier", f + ".mimic.multiplier", 1.0));
    PF_ASSIGN_OR_RETURN(m.offset, Number(mimic, "offset", f + ".mimic.offset", 0.0));
    if (JointDofs(joint.type) != 1)
      return Fail(StrCat("a ", type, " joint can not mimic another joint"), Loc(mimic, f + ".mimic"));
    joint.mimic = m;
  }
  return joint;
}

core::Result<RobotDesc> UrdfParser::Parse(std::string_view text) {
  tinyxml2::XMLDocument doc;
  if (doc.Parse(text.data(), text.size()) != tinyxml2::XML_SUCCESS) {
    std::string reason = doc.ErrorStr() != nullptr ? doc.ErrorStr() : "malformed XML";
    return Fail("malformed XML: " + reason, {file_, doc.ErrorLineNum(), 0, ""});
  }
  const XMLElement* root = doc.RootElement();
  if (root == nullptr || std::string_view(root->Name()) != "robot")
    return Fail(StrCat("the root element must be <robot>, found <", root ? root->Name() : "", ">"),
                Loc(root, "robot"));
  robot_.source = path_;
  if (const char* name = root->Attribute("name")) robot_.name = name;

  for (const XMLElement* m = root->FirstChildElement("material"); m; m = m->NextSiblingElement("material")) {
    PF_TRY(ParseMaterial(m, "robot", true));
  }

  // Links in file order first; the tree order is computed below.
  std::vector<LinkDesc> links;
  std::map<std::string, int> link_index;
  for (const XMLElement* e = root->FirstChildElement("link"); e; e = e->NextSiblingElement("link")) {
    PF_ASSIGN_OR_RETURN(LinkDesc link, ParseLink(e));
    if (const auto [it, inserted] = link_index.emplace(link.name, static_cast<int>(links.size())); !inserted)
      return Fail(StrCat("link '", link.name, "' is defined twice (first at line ",
                         links[static_cast<std::size_t>(it->second)].line, ")"),
                  Loc(e, "link[" + link.name + "]"));
    links.push_back(std::move(link));
  }
  if (links.empty()) return Fail("the robot has no <link>", Loc(root, "robot"));

  std::vector<JointDesc> joints;
  std::map<std::string, int> joint_index;
  std::vector<int> parent_joint(links.size(), -1);
  for (const XMLElement* e = root->FirstChildElement("joint"); e; e = e->NextSiblingElement("joint")) {
    PF_ASSIGN_OR_RETURN(JointDesc joint, ParseJoint(e, link_index));
    if (const auto [it, inserted] = joint_index.emplace(joint.name, static_cast<int>(joints.size())); !inserted)
      return Fail(StrCat("joint '", joint.name, "' is defined twice (first at line ",
                         joints[static_cast<std::size_t>(it->second)].line, ")"),
                  Loc(e, "joint[" + joint.name + "]"));
    int& parent = parent_joint[static_cast<std::size_t>(joint.child_link)];
    if (parent >= 0)
      return Fail(StrCat("link '", links[static_cast<std::size_t>(joint.child_link)].name,
                         "' already has parent joint '", joints[static_cast<std::size_t>(parent)].name,
                         "' (line ", joints[static_cast<std::size_t>(parent)].line,
                         "); a link has one parent"),
                  Loc(e, "joint[" + joint.name + "].child"));
    parent = static_cast<int>(joints.size());
    joints.push_back(std::move(joint));
  }

  // Exactly one root; every link reachable from it (otherwise the joints form a cycle).
  std::vector<int> roots;
  for (std::size_t l = 0; l < links.size(); ++l)
    if (parent_joint[l] < 0) roots.push_back(static_cast<int>(l));
  if (roots.size() > 1) {
    const LinkDesc& a = links[static_cast<std::size_t>(roots[0])];
    const LinkDesc& b = links[static_cast<std::size_t>(roots[1])];
    return Fail(StrCat("the robot has ", roots.size(), " root links ('", a.name, "' at line ", a.line,
                       " and '", b.name, "' at line ", b.line,
                       "); every link but one needs a parent joint"),
                {file_, b.line, 0, "link[" + b.name + "]"});
  }
  std::vector<std::vector<int>> children(links.size());
  for (std::size_t j = 0; j < joints.size(); ++j)
    children[static_cast<std::size_t>(joints[j].parent_link)].push_back(static_cast<int>(j));
  std::vector<int> order;            // file link index in tree order
  std::vector<int> new_index(links.size(), -1);
  if (!roots.empty()) {
    std::vector<int> stack{roots[0]};
    while (!stack.empty()) {
      const int l = stack.back();
      stack.pop_back();
      new_index[static_cast<std::size_t>(l)] = static_cast<int>(order.size());
      order.push_back(l);
      const auto& kids = children[static_cast<std::size_t>(l)];
      for (auto k = kids.rbegin(); k != kids.rend(); ++k)
        stack.push_back(joints[static_cast<std::size_t>(*k)].child_link);
    }
  }
  if (order.size() != links.size()) {
    for (std::size_t j = 0; j < joints.size(); ++j) {
      if (new_index[static_cast<std::size_t>(joints[j].child_link)] < 0)
        return Fail(StrCat("joints form a cycle through link '",
                           links[static_cast<std::size_t>(joints[j].child_link)].name, "'"),
                    {file_, joints[j].line, 0, "joint[" + joints[j].name + "]"});
    }
  }

  // Rebuild in tree order: link i (> 0) has parent joint i - 1.
  robot_.links.reserve(links.size());
  robot_.joints.reserve(joints.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    LinkDesc link = std::move(links[static_cast<std::size_t>(order[i])]);
    const int pj = parent_joint[static_cast<std::size_t>(order[i])];
    if (pj >= 0) {
      JointDesc joint = std::move(joints[static_cast<std::size_t>(pj)]);
      joint.parent_link = new_index[static_cast<std::size_t>(joint.parent_link)];
      joint.child_link = static_cast<int>(i);
      link.parent_joint = static_cast<int>(robot_.joints.size());
      robot_.joints.push_back(std::move(joint));
    }
    robot_.links.push_back(std::move(link));
  }
  for (auto& joint : robot_.joints) {
    if (!joint.mimic) continue;
    joint.mimic->joint_index = robot_.FindJoint(joint.mimic->joint);
    const core::Location where{file_, joint.line, 0, "joint[" + joint.name + "].mimic.joint"};
    if (joint.mimic->joint_index < 0)
      return Fail(StrCat("mimicked joint '", joint.mimic->joint, "' is not defined"), where);
    const JointDesc& leader = robot_.joints[static_cast<std::size_t>(joint.mimic->joint_index)];
    if (&leader == &joint) return Fail("a joint can not mimic itself", where);
    if (JointDofs(leader.type) != 1)
      return Fail(StrCat("mimicked joint '", leader.name, "' is ", JointTypeName(leader.type),
                         "; only 1-DOF joints can be mimicked"),
                  where);
    if (leader.mimic)
      return Fail(StrCat("mimicked joint '", leader.name, "' is itself a mimic joint; chains are not supported"),
                  where);
  }
  return std::move(robot_);
}

}  // namespace

core::Result<RobotDesc> ParseUrdf(std::string_view text, const fs::path& source_path,
                                  const AssetResolver& resolver, Warnings* warnings, const UrdfConfig& config) {
  const bool builtin = source_path.string().starts_with("builtin://");
  const fs::path path = builtin ? source_path : fs::absolute(source_path).lexically_normal();
  UrdfParser parser(path, resolver, warnings, config);
  return parser.Parse(text);
}

core::Result<RobotDesc> LoadUrdf(const fs::path& path, const AssetResolver& resolver, Warnings* warnings,
                                 const UrdfConfig& config) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return Fail("URDF file not found", {path.string(), 0, 0, ""});
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("cannot open URDF file", {path.string(), 0, 0, ""});
  std::ostringstream text;
  text << in.rdbuf();
  return ParseUrdf(text.str(), path, resolver, warnings, config);
}

}  // namespace pf::assets
