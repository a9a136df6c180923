#include "pf/scenarios/document.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/text_format.h>

#include "pf/core/str.h"
#include "scenario.pb.h"

namespace pf::scenarios {

namespace fs = std::filesystem;
namespace pb = google::protobuf;
namespace msg = parafab::scenario;

struct ScenarioDocument::Impl {
  msg::Scenario message;
  fs::path source;
  Scenario scenario;
  assets::AssetLibrary* library = nullptr;  // the document does not outlive it
};

namespace {

std::string Print(const pb::Message& message) {
  std::string text;
  pb::TextFormat::Printer printer;
  printer.PrintToString(message, &text);
  return text;
}

int FindObject(const msg::Scenario& s, std::string_view name) {
  for (int i = 0; i < s.objects_size(); ++i)
    if (s.objects(i).name() == name) return i;
  return -1;
}

// Reads the file, or the built-in scenario's text.
core::Result<std::string> SourceText(const std::string& path_or_builtin) {
  if (path_or_builtin.starts_with(kBuiltinScenarioScheme)) {
    const auto text = BuiltinScenarioText(std::string_view(path_or_builtin).substr(kBuiltinScenarioScheme.size()));
    if (!text) return core::Fail("no such built-in scenario", {path_or_builtin, 0, 0, ""});
    return std::string(*text);
  }
  std::ifstream in(path_or_builtin, std::ios::binary);
  if (!in) return core::Fail(core::StrCat("cannot open: ", std::strerror(errno)), {path_or_builtin, 0, 0, ""});
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Field paths where a and b differ, recursing into messages; repeated messages with a
// "name" field are matched by name.
void Diff(const pb::Message& a, const pb::Message& b, const std::string& prefix, std::vector<std::string>* out) {
  const pb::Descriptor* d = a.GetDescriptor();
  const pb::Reflection* ra = a.GetReflection();
  const pb::Reflection* rb = b.GetReflection();
  for (int f = 0; f < d->field_count(); ++f) {
    const pb::FieldDescriptor* field = d->field(f);
    const std::string path = prefix.empty() ? field->name() : prefix + "." + field->name();
    if (field->is_repeated() && field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE && !field->is_map() &&
        field->message_type()->FindFieldByName("name") != nullptr) {
      const pb::FieldDescriptor* name_field = field->message_type()->FindFieldByName("name");
      std::map<std::string, const pb::Message*> in_a, in_b;
      for (int i = 0; i < ra->FieldSize(a, field); ++i) {
        const pb::Message& m = ra->GetRepeatedMessage(a, field, i);
        in_a[m.GetReflection()->GetString(m, name_field)] = &m;
      }
      for (int i = 0; i < rb->FieldSize(b, field); ++i) {
        const pb::Message& m = rb->GetRepeatedMessage(b, field, i);
        in_b[m.GetReflection()->GetString(m, name_field)] = &m;
      }
      for (const auto& [name, m] : in_a) {
        const std::string item = field->name() + "[" + name + "]";
        const std::string item_path = prefix.empty() ? item : prefix + "." + item;
        const auto other = in_b.find(name);
        if (other == in_b.end()) {
          out->push_back(item_path);
        } else {
          Diff(*m, *other->second, item_path, out);
        }
      }
      for (const auto& [name, m] : in_b)
        if (!in_a.contains(name)) out->push_back(prefix.empty() ? field->name() + "[" + name + "]"
                                                                : prefix + "." + field->name() + "[" + name + "]");
      continue;
    }
    if (field->is_repeated() && field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE && !field->is_map()) {
      // Unnamed items (placements, ...): by index.
      const int na = ra->FieldSize(a, field), nb = rb->FieldSize(b, field);
      for (int i = 0; i < std::max(na, nb); ++i) {
        const std::string item_path = path + "[" + std::to_string(i) + "]";
        if (i >= na || i >= nb) {
          out->push_back(item_path);
        } else {
          Diff(ra->GetRepeatedMessage(a, field, i), rb->GetRepeatedMessage(b, field, i), item_path, out);
        }
      }
      continue;
    }
    if (!field->is_repeated() && field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      const bool ha = ra->HasField(a, field), hb = rb->HasField(b, field);
      if (ha != hb) {
        out->push_back(path);
      } else if (ha) {
        std::vector<std::string> inner;
        Diff(ra->GetMessage(a, field), rb->GetMessage(b, field), path, &inner);
        // A value (a pose, a colour, a range, a region) is one edit: the field, not its parts.
        static const std::set<std::string> kValues = {"Pose", "RGBA", "Vec3", "Quaternion", "Range", "Region"};
        if (!inner.empty()) {
          if (kValues.contains(field->message_type()->name())) {
            out->push_back(path);
          } else {
            out->insert(out->end(), inner.begin(), inner.end());
          }
        }
      }
      continue;
    }
    // Scalars (presence included) and other repeated fields: compare their text.
    std::string ta, tb;
    if (field->is_repeated()) {
      // Map entries come in no particular order: compare them sorted.
      const auto values = [&](const pb::Message& m, const pb::Reflection* r) {
        std::vector<std::string> items;
        for (int i = 0; i < r->FieldSize(m, field); ++i) {
          std::string v;
          pb::TextFormat::PrintFieldValueToString(m, field, i, &v);
          items.push_back(std::move(v));
        }
        if (field->is_map()) std::sort(items.begin(), items.end());
        std::string joined;
        for (const std::string& v : items) joined += v + "\n";
        return joined;
      };
      ta = values(a, ra);
      tb = values(b, rb);
    } else {
      const bool ha = !field->has_presence() || ra->HasField(a, field);
      const bool hb = !field->has_presence() || rb->HasField(b, field);
      if (ha) pb::TextFormat::PrintFieldValueToString(a, field, -1, &ta);
      if (hb) pb::TextFormat::PrintFieldValueToString(b, field, -1, &tb);
      ta = (ha ? "1" : "0") + ta;
      tb = (hb ? "1" : "0") + tb;
    }
    if (ta != tb) out->push_back(path);
  }
}

void SetPose(msg::Pose* out, const core::Pose& pose) {
  out->Clear();
  const core::Vec3 p = pose.translation();
  out->mutable_position()->set_x(p.x());
  out->mutable_position()->set_y(p.y());
  out->mutable_position()->set_z(p.z());
  const core::Quat q(pose.rotation());
  out->mutable_quaternion()->set_w(q.w());
  out->mutable_quaternion()->set_x(q.x());
  out->mutable_quaternion()->set_y(q.y());
  out->mutable_quaternion()->set_z(q.z());
}

}  // namespace

ScenarioDocument::ScenarioDocument(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ScenarioDocument::ScenarioDocument(const ScenarioDocument& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
ScenarioDocument& ScenarioDocument::operator=(const ScenarioDocument& other) {
  if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
  return *this;
}
ScenarioDocument::ScenarioDocument(ScenarioDocument&&) noexcept = default;
ScenarioDocument& ScenarioDocument::operator=(ScenarioDocument&&) noexcept = default;
ScenarioDocument::~ScenarioDocument() = default;

core::Result<ScenarioDocument> ScenarioDocument::FromText(std::string_view text, const fs::path& source,
                                                          assets::AssetLibrary& library) {
  auto impl = std::make_unique<Impl>();
  PF_ASSIGN_OR_RETURN(impl->scenario, ParseScenario(text, source, library));
  // ParseScenario checked the text, so it parses here too.
  if (!pb::TextFormat::ParseFromString(std::string(text), &impl->message))
    return core::Fail("cannot parse the scenario", {source.string(), 0, 0, ""});
  impl->source = source;
  impl->library = &library;
  return ScenarioDocument(std::move(impl));
}

core::Result<ScenarioDocument> ScenarioDocument::Open(const std::string& path_or_builtin, assets::AssetLibrary& library) {
  PF_ASSIGN_OR_RETURN(const std::string text, SourceText(path_or_builtin));
  return FromText(text, path_or_builtin, library);
}

const fs::path& ScenarioDocument::source() const { return impl_->source; }
std::string ScenarioDocument::Text() const { return Print(impl_->message); }
const Scenario& ScenarioDocument::scenario() const { return impl_->scenario; }

std::vector<std::string> ScenarioDocument::RobotNames() const {
  std::vector<std::string> out;
  for (const msg::Robot& r : impl_->message.robots()) out.push_back(r.name());
  return out;
}

std::vector<std::string> ScenarioDocument::ObjectNames() const {
  std::vector<std::string> out;
  for (const msg::Object& o : impl_->message.objects()) out.push_back(o.name());
  return out;
}

core::Result<ObjectFields> ScenarioDocument::Object(std::string_view name) const {
  const int i = FindObject(impl_->message, name);
  if (i < 0) return core::Fail(core::StrCat("no object named '", name, "'"), {impl_->source.string(), 0, 0, "objects"});
  const msg::Object& o = impl_->message.objects(i);
  ObjectFields f;
  f.name = o.name();
  switch (o.shape_case()) {
    case msg::Object::kBox: f.shape = "box"; break;
    case msg::Object::kSphere: f.shape = "sphere"; break;
    case msg::Object::kCylinder: f.shape = "cylinder"; break;
    case msg::Object::kUrdf: f.shape = "urdf"; f.urdf = o.urdf(); break;
    default: break;
  }
  // The compiled object's pose: the message's rpy or quaternion, resolved.
  for (const sim::ObjectSpec& spec : impl_->scenario.model.objects)
    if (spec.name == o.name()) f.pose = spec.X_WO;
  if (o.has_mass()) f.mass = o.mass();
  if (o.has_friction()) f.friction = o.friction();
  if (o.has_restitution()) f.restitution = o.restitution();
  if (o.has_color()) f.colour = core::Vec4(o.color().r(), o.color().g(), o.color().b(), o.color().has_a() ? o.color().a() : 1.0);
  f.semantic_class = o.semantic_class();
  return f;
}

template <class Edit>
core::Status ScenarioDocument::Apply(std::string_view object, Edit edit) {
  msg::Scenario copy = impl_->message;
  if constexpr (std::is_invocable_v<Edit, msg::Object*>) {
    const int i = FindObject(copy, object);
    if (i < 0) return core::Fail(core::StrCat("no object named '", object, "'"), {impl_->source.string(), 0, 0, "objects"});
    edit(copy.mutable_objects(i));
  } else {
    edit(&copy);
  }
  const std::string text = Print(copy);
  auto compiled = ParseScenario(text, impl_->source, *impl_->library);
  if (!compiled) {
    // The check ran on the printed text: its line numbers mean nothing to the user, the
    // field path and the message do.
    core::Error error = compiled.error();
    error.where.line = error.where.column = 0;
    error.where.file = impl_->source.string();
    return std::unexpected(std::move(error));
  }
  impl_->message = std::move(copy);
  impl_->scenario = std::move(*compiled);
  return core::Ok();
}

core::Status ScenarioDocument::SetObjectPose(std::string_view name, const core::Pose& pose) {
  return Apply(name, [&](msg::Object* o) { SetPose(o->mutable_pose(), pose); });
}
core::Status ScenarioDocument::SetObjectMass(std::string_view name, double kg) {
  return Apply(name, [&](msg::Object* o) { o->set_mass(kg); });
}
core::Status ScenarioDocument::SetObjectFriction(std::string_view name, double friction) {
  return Apply(name, [&](msg::Object* o) { o->set_friction(friction); });
}
core::Status ScenarioDocument::SetObjectRestitution(std::string_view name, double restitution) {
  return Apply(name, [&](msg::Object* o) { o->set_restitution(restitution); });
}
core::Status ScenarioDocument::SetObjectColour(std::string_view name, const core::Vec4& rgba) {
  return Apply(name, [&](msg::Object* o) {
    o->mutable_color()->set_r(rgba[0]);
    o->mutable_color()->set_g(rgba[1]);
    o->mutable_color()->set_b(rgba[2]);
    o->mutable_color()->set_a(rgba[3]);
  });
}
core::Status ScenarioDocument::SetObjectSemanticClass(std::string_view name, std::string_view semantic_class) {
  return Apply(name, [&](msg::Object* o) { o->set_semantic_class(std::string(semantic_class)); });
}

core::Status ScenarioDocument::AddUrdfObject(std::string_view name, std::string_view urdf, const core::Pose& pose) {
  if (FindObject(impl_->message, name) >= 0)
    return core::Fail(core::StrCat("an object named '", name, "' exists already"), {impl_->source.string(), 0, 0, "objects"});
  return Apply({}, [&](msg::Scenario* s) {
    msg::Object* o = s->add_objects();
    o->set_name(std::string(name));
    o->set_urdf(std::string(urdf));
    SetPose(o->mutable_pose(), pose);
  });
}

core::Status ScenarioDocument::RemoveObject(std::string_view name) {
  const int i = FindObject(impl_->message, name);
  if (i < 0) return core::Fail(core::StrCat("no object named '", name, "'"), {impl_->source.string(), 0, 0, "objects"});
  return Apply({}, [&](msg::Scenario* s) { s->mutable_objects()->DeleteSubrange(i, 1); });
}

core::Status ScenarioDocument::SetPlacementRegion(int index, const RegionSpec& region) {
  if (index < 0 || index >= impl_->message.randomization().placements_size())
    return core::Fail(core::StrCat("no placement ", index), {impl_->source.string(), 0, 0, "randomization.placements"});
  return Apply({}, [&](msg::Scenario* s) {
    msg::Region* r = s->mutable_randomization()->mutable_placements(index)->mutable_region();
    r->mutable_min()->set_x(region.min.x());
    r->mutable_min()->set_y(region.min.y());
    r->mutable_min()->set_z(region.min.z());
    r->mutable_max()->set_x(region.max.x());
    r->mutable_max()->set_y(region.max.y());
    r->mutable_max()->set_z(region.max.z());
  });
}

std::vector<std::string> ScenarioDocument::Differences(const ScenarioDocument& other) const {
  std::vector<std::string> out;
  Diff(impl_->message, other.impl_->message, "", &out);
  return out;
}

core::Status ScenarioDocument::Save(const fs::path& path) {
  const std::string text = Text();
  const fs::path tmp = path.string() + ".tmp-parafab";
  const core::Location where{path.string(), 0, 0, ""};
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return core::Fail(core::StrCat("cannot save: ", std::strerror(errno)), where);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return core::Fail(core::StrCat("cannot save: ", std::strerror(e)), where);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return core::Fail(core::StrCat("cannot save: ", std::strerror(e)), where);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return core::Fail(core::StrCat("cannot save: ", std::strerror(e)), where);
  }
  impl_->source = path;
  return core::Ok();
}

}  // namespace pf::scenarios
