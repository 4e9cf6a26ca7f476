// Reading a CDI spec from YAML or JSON text into cdi::Spec (see spec.h): yaml-cpp builds the
// tree, a bounded walk checks its depth and size (aliases followed and counted), then typed reads
// of the known fields with paths in errors. yaml-cpp throws; nothing leaves this file but
// Result. Thread-safe (pure functions).
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "base/strings.h"
#include "cdi/spec.h"
#include "os/file.h"
#include "os/unique_fd.h"

namespace comet::cdi {
namespace {

std::string Child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string Index(const std::string& path, size_t i) {
  return fmt::format("{}[{}]", path, i);
}

Error FieldError(const std::string& path, std::string_view message) {
  return Error::Invalid(path.empty() ? std::string(message) : fmt::format("{}: {}", path, message));
}

const char* TypeName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "null";
  }
}

// The whole tree within kMaxSpecDepth and kMaxSpecNodes, walked without recursion. An alias
// is the node it names, so a document that reuses an anchor many times is counted in full.
Status CheckBounds(const YAML::Node& root) {
  std::vector<std::pair<YAML::Node, int>> stack;
  stack.emplace_back(root, 1);
  size_t visited = 0;
  while (!stack.empty()) {
    auto [node, depth] = std::move(stack.back());
    stack.pop_back();
    if (++visited > kMaxSpecNodes) {
      return Err(Error::Invalid(fmt::format("more than {} nodes", kMaxSpecNodes)));
    }
    if (depth > kMaxSpecDepth) {
      return Err(Error::Invalid(fmt::format("nested deeper than {} levels", kMaxSpecDepth)));
    }
    if (node.IsSequence()) {
      for (const YAML::Node& item : node) {
        stack.emplace_back(item, depth + 1);
      }
    } else if (node.IsMap()) {
      for (const auto& item : node) {
        stack.emplace_back(item.first, depth + 1);
        stack.emplace_back(item.second, depth + 1);
      }
    }
  }
  return Ok();
}

// A mapping's members by name, checked against the names the format has (the reference
// implementation refuses unknown fields too) and for duplicates, which YAML forbids but
// yaml-cpp accepts.
class Object {
 public:
  static Result<Object> Open(const YAML::Node& node, std::string path,
                             std::initializer_list<std::string_view> known) {
    if (!node.IsMap()) {
      return Err(FieldError(path, fmt::format("expected a mapping, got {}", TypeName(node))));
    }
    Object object(std::move(path));
    for (const auto& item : node) {
      if (!item.first.IsScalar()) {
        return Err(FieldError(object.path_, "a key is not a string"));
      }
      const std::string key = item.first.Scalar();
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        return Err(FieldError(Child(object.path_, Printable(key, 64)), "unknown field"));
      }
      if (!object.members_.emplace(key, item.second).second) {
        return Err(FieldError(Child(object.path_, key), "given twice"));
      }
    }
    return object;
  }

  // The member, or a null node when absent (YAML null counts as absent, as in Go).
  [[nodiscard]] YAML::Node Get(std::string_view key) const {
    auto it = members_.find(std::string(key));
    return it == members_.end() ? YAML::Node() : it->second;
  }
  [[nodiscard]] std::string PathOf(std::string_view key) const { return Child(path_, key); }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  explicit Object(std::string path) : path_(std::move(path)) {}
  std::string path_;
  std::map<std::string, YAML::Node> members_;
};

bool Present(const YAML::Node& node) {
  return node.IsDefined() && !node.IsNull();
}

Status ReadString(const Object& o, std::string_view key, std::string* out) {
  const YAML::Node node = o.Get(key);
  if (!Present(node)) {
    return Ok();
  }
  if (!node.IsScalar()) {
    return Err(FieldError(o.PathOf(key), fmt::format("expected a string, got {}", TypeName(node))));
  }
  *out = node.Scalar();
  return Ok();
}

// An integer scalar: decimal, 0x hex, 0o octal, or YAML 1.1's leading-zero octal (what Go's
// YAML readers, and so the reference implementation, accept for fileMode: 0666). Quoted
// scalars are strings, not numbers.
Result<long long> ParseInteger(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar() || node.Tag() == "!") {
    return Err(FieldError(path, fmt::format("expected a number, got {}",
                                            node.IsScalar() ? "a string" : TypeName(node))));
  }
  const std::string& text = node.Scalar();
  bool negative = false;
  std::string_view digits = text;
  if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
  }
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  } else if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'o' || digits[1] == 'O')) {
    base = 8;
    digits.remove_prefix(2);
  } else if (digits.size() > 1 && digits[0] == '0') {
    base = 8;
    digits.remove_prefix(1);
  }
  const std::string body(digits);
  errno = 0;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(body.c_str(), &end, base);
  if (body.empty() || !std::isalnum(static_cast<unsigned char>(body.front())) ||
      end != body.c_str() + body.size() || errno == ERANGE ||
      value > static_cast<unsigned long long>(std::numeric_limits<long long>::max())) {
    return Err(
        FieldError(path, fmt::format("\"{}\": not an integer in range", Printable(text, 32))));
  }
  const auto signed_value = static_cast<long long>(value);
  return negative ? -signed_value : signed_value;
}

template <class T>
Result<T> ParseIntegerAs(const YAML::Node& node, const std::string& path) {
  ASSIGN_OR_RETURN(long long value, ParseInteger(node, path));
  if (value < static_cast<long long>(std::numeric_limits<T>::min()) ||
      static_cast<unsigned long long>(value) >
          static_cast<unsigned long long>(std::numeric_limits<T>::max())) {
    return Err(FieldError(path, fmt::format("{} is out of range", value)));
  }
  return static_cast<T>(value);
}

template <class T>
Status ReadInteger(const Object& o, std::string_view key, std::optional<T>* out) {
  const YAML::Node node = o.Get(key);
  if (!Present(node)) {
    return Ok();
  }
  ASSIGN_OR_RETURN(*out, ParseIntegerAs<T>(node, o.PathOf(key)));
  return Ok();
}

// A list member's items (none when absent).
Result<std::vector<YAML::Node>> ReadList(const Object& o, std::string_view key) {
  const YAML::Node node = o.Get(key);
  std::vector<YAML::Node> items;
  if (!Present(node)) {
    return items;
  }
  if (!node.IsSequence()) {
    return Err(FieldError(o.PathOf(key), fmt::format("expected a list, got {}", TypeName(node))));
  }
  for (const YAML::Node& item : node) {
    items.push_back(item);
  }
  return items;
}

Status ReadStrings(const Object& o, std::string_view key, std::vector<std::string>* out) {
  ASSIGN_OR_RETURN(std::vector<YAML::Node> items, ReadList(o, key));
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].IsScalar()) {
      return Err(FieldError(Index(o.PathOf(key), i),
                            fmt::format("expected a string, got {}", TypeName(items[i]))));
    }
    out->push_back(items[i].Scalar());
  }
  return Ok();
}

Status ReadAnnotations(const Object& o, std::map<std::string, std::string>* out) {
  const YAML::Node node = o.Get("annotations");
  if (!Present(node)) {
    return Ok();
  }
  const std::string path = o.PathOf("annotations");
  if (!node.IsMap()) {
    return Err(FieldError(path, fmt::format("expected a mapping, got {}", TypeName(node))));
  }
  for (const auto& item : node) {
    if (!item.first.IsScalar() || !item.second.IsScalar()) {
      return Err(FieldError(path, "expected string keys and values"));
    }
    (*out)[item.first.Scalar()] = item.second.Scalar();
  }
  return Ok();
}

Result<DeviceNode> ReadDeviceNode(const YAML::Node& node, const std::string& path) {
  ASSIGN_OR_RETURN(Object o, Object::Open(node, path,
                                          {"path", "hostPath", "type", "major", "minor", "fileMode",
                                           "permissions", "uid", "gid"}));
  DeviceNode out;
  RETURN_IF_ERROR(ReadString(o, "path", &out.path));
  RETURN_IF_ERROR(ReadString(o, "hostPath", &out.host_path));
  RETURN_IF_ERROR(ReadString(o, "type", &out.type));
  RETURN_IF_ERROR(ReadInteger(o, "major", &out.major));
  RETURN_IF_ERROR(ReadInteger(o, "minor", &out.minor));
  RETURN_IF_ERROR(ReadInteger(o, "fileMode", &out.file_mode));
  RETURN_IF_ERROR(ReadString(o, "permissions", &out.permissions));
  RETURN_IF_ERROR(ReadInteger(o, "uid", &out.uid));
  RETURN_IF_ERROR(ReadInteger(o, "gid", &out.gid));
  return out;
}

Result<Mount> ReadMount(const YAML::Node& node, const std::string& path) {
  ASSIGN_OR_RETURN(Object o,
                   Object::Open(node, path, {"hostPath", "containerPath", "type", "options"}));
  Mount out;
  RETURN_IF_ERROR(ReadString(o, "hostPath", &out.host_path));
  RETURN_IF_ERROR(ReadString(o, "containerPath", &out.container_path));
  RETURN_IF_ERROR(ReadString(o, "type", &out.type));
  RETURN_IF_ERROR(ReadStrings(o, "options", &out.options));
  return out;
}

Result<Hook> ReadHook(const YAML::Node& node, const std::string& path) {
  ASSIGN_OR_RETURN(Object o,
                   Object::Open(node, path, {"hookName", "path", "args", "env", "timeout"}));
  Hook out;
  RETURN_IF_ERROR(ReadString(o, "hookName", &out.hook_name));
  RETURN_IF_ERROR(ReadString(o, "path", &out.path));
  RETURN_IF_ERROR(ReadStrings(o, "args", &out.args));
  RETURN_IF_ERROR(ReadStrings(o, "env", &out.env));
  RETURN_IF_ERROR(ReadInteger(o, "timeout", &out.timeout));
  return out;
}

// Reads every item of list `key` with `read`, appending to `out`.
template <class T, class Read>
Status ReadObjects(const Object& o, std::string_view key, Read read, std::vector<T>* out) {
  ASSIGN_OR_RETURN(std::vector<YAML::Node> items, ReadList(o, key));
  for (size_t i = 0; i < items.size(); ++i) {
    ASSIGN_OR_RETURN(T item, read(items[i], Index(o.PathOf(key), i)));
    out->push_back(std::move(item));
  }
  return Ok();
}

Result<ContainerEdits> ReadEdits(const YAML::Node& node, const std::string& path) {
  ContainerEdits out;
  if (!Present(node)) {
    return out;
  }
  // The SPEC's field list spells it additionalGids (the Go field's JSON name), its example
  // additionalGIDs; Go matches either, so does this.
  ASSIGN_OR_RETURN(Object o, Object::Open(node, path,
                                          {"env", "deviceNodes", "mounts", "hooks",
                                           "additionalGids", "additionalGIDs", "intelRdt"}));
  RETURN_IF_ERROR(ReadStrings(o, "env", &out.env));
  RETURN_IF_ERROR(ReadObjects(o, "deviceNodes", ReadDeviceNode, &out.device_nodes));
  RETURN_IF_ERROR(ReadObjects(o, "mounts", ReadMount, &out.mounts));
  RETURN_IF_ERROR(ReadObjects(o, "hooks", ReadHook, &out.hooks));
  for (const char* key : {"additionalGids", "additionalGIDs"}) {
    ASSIGN_OR_RETURN(std::vector<YAML::Node> gids, ReadList(o, key));
    for (size_t i = 0; i < gids.size(); ++i) {
      ASSIGN_OR_RETURN(uint32_t gid, ParseIntegerAs<uint32_t>(gids[i], Index(o.PathOf(key), i)));
      out.additional_gids.push_back(gid);
    }
  }
  const YAML::Node rdt = o.Get("intelRdt");
  if (Present(rdt)) {
    if (!rdt.IsMap()) {
      return Err(FieldError(o.PathOf("intelRdt"),
                            fmt::format("expected a mapping, got {}", TypeName(rdt))));
    }
    out.intel_rdt = true;
  }
  return out;
}

Result<Device> ReadDevice(const YAML::Node& node, const std::string& path) {
  ASSIGN_OR_RETURN(Object o, Object::Open(node, path, {"name", "annotations", "containerEdits"}));
  Device out;
  RETURN_IF_ERROR(ReadString(o, "name", &out.name));
  RETURN_IF_ERROR(ReadAnnotations(o, &out.annotations));
  ASSIGN_OR_RETURN(out.edits, ReadEdits(o.Get("containerEdits"), o.PathOf("containerEdits")));
  return out;
}

Result<Spec> ReadSpec(const YAML::Node& root) {
  ASSIGN_OR_RETURN(
      Object o,
      Object::Open(root, "", {"cdiVersion", "kind", "annotations", "devices", "containerEdits"}));
  Spec spec;
  RETURN_IF_ERROR(ReadString(o, "cdiVersion", &spec.version));
  RETURN_IF_ERROR(ReadString(o, "kind", &spec.kind));
  RETURN_IF_ERROR(ReadAnnotations(o, &spec.annotations));
  RETURN_IF_ERROR(ReadObjects(o, "devices", ReadDevice, &spec.devices));
  ASSIGN_OR_RETURN(spec.edits, ReadEdits(o.Get("containerEdits"), "containerEdits"));
  return spec;
}

Result<Spec> ParseTree(std::string_view text) {
  // yaml-cpp reports malformed input, and nesting past its own guard, by throwing; so can its
  // accessors on an unexpected node. Both stop at this boundary.
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    if (!Present(root)) {
      return Err(Error::Invalid("empty document"));
    }
    RETURN_IF_ERROR(CheckBounds(root));
    return ReadSpec(root);
  } catch (const YAML::Exception& e) {
    return Err(Error::Invalid(
        fmt::format("line {}, column {}: {}", e.mark.line + 1, e.mark.column + 1, e.msg)));
  } catch (const std::exception& e) {
    return Err(Error::Invalid(e.what()));
  }
}

}  // namespace

Result<Spec> ParseSpec(std::string_view text, std::string_view source) {
  const std::string where = source.empty() ? "CDI spec" : fmt::format("CDI spec {}", source);
  if (text.size() > kMaxSpecBytes) {
    return Err(
        Error::Invalid(fmt::format("larger than {} bytes", kMaxSpecBytes)).AddContext(where));
  }
  auto spec = ParseTree(text);
  if (spec) {
    if (Status valid = ValidateSpec(*spec); !valid) {
      spec = Err(std::move(valid).error());
    }
  }
  if (!spec) {
    return Err(std::move(spec).error().AddContext(where));
  }
  spec->source = std::string(source);
  return spec;
}

Result<Spec> ReadSpecFile(const std::string& path) {
  // O_NONBLOCK: a fifo planted among the specs must not hang stage0 (it is refused below).
  auto text = os::Open(path, O_RDONLY | O_NONBLOCK).and_then([&](os::UniqueFd fd) {
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      return Result<std::string>(Err(Error::FromErrno("fstat", path)));
    }
    if (!S_ISREG(st.st_mode)) {
      return Result<std::string>(Err(Error::Invalid("not a regular file")));
    }
    return os::ReadFd(fd.get(), kMaxSpecBytes);
  });
  if (!text) {
    return Err(std::move(text).error().AddContext(fmt::format("CDI spec {}", path)));
  }
  return ParseSpec(*text, path);
}

}  // namespace comet::cdi
