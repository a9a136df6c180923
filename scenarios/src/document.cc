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

// The loaded text, cut into top-level entries: each entry's lines, from the comment and
// blank lines just above it to the line before the next entry's; `header` is what precedes
// the first entry.
struct TextBlocks {
  std::string header;
  struct Block {
    const pb::FieldDescriptor* field = nullptr;
    int index = -1;            // in the repeated field, -1 for singular fields
    std::string leading;       // comment and blank lines just above the entry
    std::string text;          // the entry itself, to the next one's leading lines
  };
  std::vector<Block> blocks;
};

struct ScenarioDocument::Impl {
  msg::Scenario message;
  fs::path source;
  Scenario scenario;
  assets::AssetLibrary* library = nullptr;  // the document does not outlive it
  msg::Scenario loaded;  // what `blocks` hold
  TextBlocks blocks;
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

// One top-level entry of `from` (occurrence `index` of a repeated field) printed alone.
std::string PrintEntry(const msg::Scenario& from, const pb::FieldDescriptor* field, int index) {
  msg::Scenario one;
  const pb::Reflection* r = from.GetReflection();
  if (field->is_repeated()) {
    r->AddMessage(&one, field)->CopyFrom(r->GetRepeatedMessage(from, field, index));
  } else {
    one.CopyFrom(from);
    const pb::Descriptor* d = one.GetDescriptor();
    for (int f = 0; f < d->field_count(); ++f)
      if (d->field(f) != field) r->ClearField(&one, d->field(f));
  }
  return Print(one);
}

// The name of a repeated entry that has one ("" otherwise).
std::string EntryName(const msg::Scenario& from, const pb::FieldDescriptor* field, int index) {
  if (!field->is_repeated() || field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) return "";
  const pb::Message& m = from.GetReflection()->GetRepeatedMessage(from, field, index);
  const pb::FieldDescriptor* name = m.GetDescriptor()->FindFieldByName("name");
  return name && name->type() == pb::FieldDescriptor::TYPE_STRING ? m.GetReflection()->GetString(m, name) : "";
}

bool BlankOrComment(std::string_view line) {
  const std::size_t first = line.find_first_not_of(" \t\r\n");
  return first == std::string_view::npos || line[first] == '#';
}

// Cuts `text` (which parses as `parsed`) into its top-level entries; empty when the layout
// does not allow it (two entries on one line, say): saving then prints the whole file.
TextBlocks CutBlocks(const std::string& text, const msg::Scenario& parsed) {
  msg::Scenario check;
  pb::TextFormat::ParseInfoTree tree;
  pb::TextFormat::Parser parser;
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(text, &check)) return {};
  struct Start {
    int line;
    const pb::FieldDescriptor* field;
    int index;
  };
  std::vector<Start> starts;
  const pb::Descriptor* d = check.GetDescriptor();
  const pb::Reflection* r = check.GetReflection();
  for (int f = 0; f < d->field_count(); ++f) {
    const pb::FieldDescriptor* field = d->field(f);
    const int count = field->is_repeated() ? r->FieldSize(check, field) : (r->HasField(check, field) ? 1 : 0);
    for (int i = 0; i < count; ++i) {
      const auto location = tree.GetLocation(field, field->is_repeated() ? i : -1);
      if (location.line < 0) return {};
      starts.push_back({location.line, field, field->is_repeated() ? i : -1});
    }
  }
  std::sort(starts.begin(), starts.end(), [](const Start& a, const Start& b) { return a.line < b.line; });
  for (std::size_t i = 1; i < starts.size(); ++i)
    if (starts[i].line == starts[i - 1].line) return {};
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = text.find('\n', at);
    const std::size_t next = end == std::string::npos ? text.size() : end + 1;
    lines.push_back(text.substr(at, next - at));
    at = next;
  }
  // Each entry owns the comment and blank lines just above it.
  std::vector<int> attach(starts.size());
  for (std::size_t i = 0; i < starts.size(); ++i) {
    int a = starts[i].line;
    const int floor = i == 0 ? -1 : starts[i - 1].line;
    while (a - 1 > floor && BlankOrComment(lines[static_cast<std::size_t>(a - 1)])) --a;
    attach[i] = a;
  }
  auto join = [&](int from, int to) {
    std::string out;
    for (int l = from; l < to; ++l) out += lines[static_cast<std::size_t>(l)];
    return out;
  };
  TextBlocks blocks;
  blocks.header = starts.empty() ? text : join(0, attach[0]);
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const int end = i + 1 < starts.size() ? attach[i + 1] : static_cast<int>(lines.size());
    TextBlocks::Block block{starts[i].field, starts[i].index, join(attach[i], starts[i].line), join(starts[i].line, end)};
    // Each block must hold its entry and nothing else.
    msg::Scenario alone;
    if (!pb::TextFormat::ParseFromString(block.text, &alone) ||
        Print(alone) != PrintEntry(parsed, block.field, std::max(block.index, 0)))
      return {};
    blocks.blocks.push_back(std::move(block));
  }
  return blocks;
}

// `current` as text that keeps `blocks` (cut from what parsed as `loaded`) wherever an entry
// is unchanged; "" when that cannot be done faithfully.
std::string PreservingText(const msg::Scenario& current, const msg::Scenario& loaded, const TextBlocks& blocks) {
  if (blocks.blocks.empty()) return "";
  const pb::Reflection* r = current.GetReflection();
  auto count = [&](const pb::FieldDescriptor* f) {
    return f->is_repeated() ? r->FieldSize(current, f) : (r->HasField(current, f) ? 1 : 0);
  };
  // Which current entry each block stands for (-2: none, gone).
  std::set<std::pair<const pb::FieldDescriptor*, int>> used;
  auto match = [&](const TextBlocks::Block& b) -> int {
    if (!b.field->is_repeated()) return count(b.field) > 0 ? -1 : -2;
    const std::string name = EntryName(loaded, b.field, b.index);
    for (int i = 0; i < count(b.field); ++i) {
      if (used.contains({b.field, i})) continue;
      if (name.empty() ? i == b.index : EntryName(current, b.field, i) == name) return i;
    }
    return -2;
  };
  std::string out = blocks.header;
  std::map<const pb::FieldDescriptor*, std::size_t> last_block;  // output position after the field's last entry
  std::vector<std::pair<std::size_t, std::string>> inserts;
  for (const TextBlocks::Block& b : blocks.blocks) {
    const int i = match(b);
    if (i == -2) continue;  // removed: its comments go with it
    used.insert({b.field, i});
    const std::string now = PrintEntry(current, b.field, std::max(i, 0));
    out += now == PrintEntry(loaded, b.field, std::max(b.index, 0)) ? b.leading + b.text : b.leading + now;
    last_block[b.field] = out.size();
  }
  // New entries, after the last of their kind (or at the end), in the message's order.
  const pb::Descriptor* d = current.GetDescriptor();
  std::string tail;
  for (int f = 0; f < d->field_count(); ++f) {
    const pb::FieldDescriptor* field = d->field(f);
    std::string added;
    for (int i = 0; i < count(field); ++i)
      if (!used.contains({field, field->is_repeated() ? i : -1})) added += PrintEntry(current, field, std::max(i, 0));
    if (added.empty()) continue;
    const auto at = last_block.find(field);
    if (at == last_block.end()) {
      tail += added;
    } else {
      inserts.emplace_back(at->second, added);
    }
  }
  std::sort(inserts.begin(), inserts.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [at, text] : inserts) {
    // Separate it from what it follows by a blank line when that is how the file reads.
    out.insert(at, (at >= 2 && out.compare(at - 2, 2, "}\n") == 0 ? "\n" : "") + text);
  }
  if (!tail.empty()) out += (out.ends_with("\n\n") || out.empty() ? "" : "\n") + tail;
  // The safety net: the text must read back as exactly `current`.
  msg::Scenario back;
  if (!pb::TextFormat::ParseFromString(out, &back) || Print(back) != Print(current)) return "";
  return out;
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
  impl->loaded = impl->message;
  impl->blocks = CutBlocks(std::string(text), impl->message);
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
  std::string text = PreservingText(impl_->message, impl_->loaded, impl_->blocks);
  if (text.empty()) text = Text();
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
  impl_->loaded = impl_->message;
  impl_->blocks = CutBlocks(text, impl_->message);
  return core::Ok();
}

}  // namespace pf::scenarios
