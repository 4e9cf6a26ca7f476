// MapReader and the typed node reads; see yaml_reader.h. The conversions below say what is
// wrong without a path; the path is built only when a read fails.
#include "kube/yaml_reader.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "base/strings.h"

namespace comet::kube::yaml {
namespace {

constexpr size_t kMaxShownValue = 64;
constexpr size_t kMaxShownKey = 100;

template <class T>
using Converted = tl::expected<T, std::string>;

Converted<const std::string*> StringOf(const Node& node) {
  if (node.kind == NodeKind::kScalar && Resolve(node).type == ScalarType::kString) {
    return &node.text;
  }
  std::string what = "expected a string, got " + Describe(node);
  if (node.kind == NodeKind::kScalar) {
    what += " (quote it)";
  }
  return tl::unexpected(std::move(what));
}

// StringOf for secret values: the message names the type, not the value.
Converted<std::string> RedactedStringOf(const Node& node) {
  if (node.kind == NodeKind::kScalar && Resolve(node).type == ScalarType::kString) {
    return node.text;
  }
  std::string got = "a mapping";
  if (node.kind == NodeKind::kSequence) {
    got = "a list";
  } else if (node.kind == NodeKind::kScalar) {
    got = Resolve(node).type == ScalarType::kBool ? "a boolean (quote it)" : "a number (quote it)";
  }
  return tl::unexpected("expected a string, got " + got);
}

Converted<int64_t> IntegerOf(const Node& node, int64_t min, int64_t max) {
  const Scalar scalar = Resolve(node);
  if (node.kind == NodeKind::kScalar && scalar.type == ScalarType::kInt) {
    if (scalar.integer < min || scalar.integer > max) {
      return tl::unexpected(fmt::format("{} is out of range [{}, {}]", scalar.integer, min, max));
    }
    return scalar.integer;
  }
  if (node.kind == NodeKind::kScalar && scalar.type == ScalarType::kFloat &&
      std::isfinite(scalar.number) && std::trunc(scalar.number) == scalar.number) {
    // Integral floats ("1e3", JSON's 1.0): Kubernetes' YAML-to-JSON step writes them as
    // integers.
    if (scalar.number < static_cast<double>(min) || scalar.number > static_cast<double>(max)) {
      return tl::unexpected(fmt::format("{} is out of range [{}, {}]",
                                        Printable(node.text, kMaxShownValue), min, max));
    }
    return static_cast<int64_t>(scalar.number);
  }
  return tl::unexpected("expected an integer, got " + Describe(node));
}

Converted<bool> BoolOf(const Node& node) {
  const Scalar scalar = Resolve(node);
  if (node.kind != NodeKind::kScalar || scalar.type != ScalarType::kBool) {
    return tl::unexpected("expected a boolean, got " + Describe(node));
  }
  return scalar.boolean;
}

// resource.Quantity: a string, or a number as written (integers in decimal: 0x10 is 16).
Converted<std::string> QuantityOf(const Node& node) {
  const Scalar scalar = Resolve(node);
  if (node.kind == NodeKind::kScalar && scalar.type == ScalarType::kInt) {
    return std::to_string(scalar.integer);
  }
  if (node.kind == NodeKind::kScalar &&
      (scalar.type == ScalarType::kFloat || scalar.type == ScalarType::kString)) {
    return node.text;
  }
  return tl::unexpected("expected a quantity, got " + Describe(node));
}

// IntOrString: an integer becomes its decimal text.
Converted<std::string> IntOrStringOf(const Node& node) {
  const Scalar scalar = Resolve(node);
  if (node.kind == NodeKind::kScalar && scalar.type == ScalarType::kInt) {
    auto value =
        IntegerOf(node, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
    if (!value) {
      return tl::unexpected(value.error());
    }
    return std::to_string(*value);
  }
  if (node.kind == NodeKind::kScalar && scalar.type == ScalarType::kString) {
    return node.text;
  }
  return tl::unexpected("expected an integer or a string, got " + Describe(node));
}

}  // namespace

Error FieldError(std::string_view path, std::string_view what) {
  if (path.empty()) {
    return Error::Invalid(std::string(what));
  }
  return Error::Invalid(fmt::format("{}: {}", path, what));
}

std::string Child(std::string_view path, std::string_view key) {
  std::string shown = Printable(key, kMaxShownKey);
  return path.empty() ? shown : fmt::format("{}.{}", path, shown);
}

std::string Indexed(std::string_view path, size_t index) {
  return fmt::format("{}[{}]", path, index);
}

std::string Quoted(std::string_view value) {
  return fmt::format("\"{}\"", Printable(value, kMaxShownValue));
}

std::string Describe(const Node& node) {
  switch (node.kind) {
    case NodeKind::kNull:
      return "null";
    case NodeKind::kSequence:
      return "a list";
    case NodeKind::kMap:
      return "a mapping";
    case NodeKind::kScalar:
      break;
  }
  const std::string text = Printable(node.text, kMaxShownValue);
  switch (Resolve(node).type) {
    case ScalarType::kNull:
      return "null";
    case ScalarType::kBool:
      return "boolean " + text;
    case ScalarType::kInt:
    case ScalarType::kFloat:
      return "number " + text;
    case ScalarType::kString:
      break;
  }
  return fmt::format("\"{}\"", text);
}

bool ReadContext::Spend(size_t bytes) {
  ++budget_->visits;
  budget_->bytes += bytes;
  return budget_->visits <= budget_->max_visits && budget_->bytes <= budget_->max_bytes;
}

Error ReadContext::Exhausted(std::string_view path) const {
  if (budget_->visits > budget_->max_visits) {
    return FieldError(
        path, fmt::format("more than {} nodes read (aliases expanding?)", budget_->max_visits));
  }
  return FieldError(path, fmt::format("more than {} bytes of text read (aliases expanding?)",
                                      budget_->max_bytes));
}

void ReadContext::Warn(std::string warning) {
  if (warnings_.size() < kMaxWarnings) {
    warnings_.push_back(std::move(warning));
  } else {
    ++dropped_;
  }
}

std::vector<std::string> ReadContext::TakeWarnings() {
  std::vector<std::string> out = std::move(warnings_);
  if (dropped_ > 0) {
    out.push_back(fmt::format("{} more warnings not shown", dropped_));
  }
  warnings_.clear();
  dropped_ = 0;
  return out;
}

MapReader::MapReader(ReadContext* context, const Node* node, std::string path)
    : context_(context),
      node_(node),
      path_(std::move(path)),
      read_(node == nullptr ? 0 : node->size(), false) {}

Result<MapReader> MapReader::Open(ReadContext* context, const Node* node, std::string path) {
  if (node == nullptr || node->kind == NodeKind::kNull) {
    return MapReader(context, nullptr, std::move(path));
  }
  if (!context->Spend()) {
    return Err(context->Exhausted(path));
  }
  if (node->kind != NodeKind::kMap) {
    return Err(FieldError(path, "expected a mapping, got " + Describe(*node)));
  }
  return MapReader(context, node, std::move(path));
}

bool MapReader::Has(std::string_view key) {
  if (node_ == nullptr) {
    return false;
  }
  for (size_t i = 0; i < read_.size(); ++i) {
    if (node_->children[2 * i]->text == key) {
      read_[i] = true;
      return true;
    }
  }
  return false;
}

const Node* MapReader::Find(std::string_view key) {
  if (node_ == nullptr) {
    return nullptr;
  }
  for (size_t i = 0; i < read_.size(); ++i) {
    if (node_->children[2 * i]->text == key) {
      read_[i] = true;
      const Node* value = node_->children[2 * i + 1];
      return value->kind == NodeKind::kNull ? nullptr : value;
    }
  }
  return nullptr;
}

namespace {

// Converts member `key` with `convert` into *out (through `assign`), spending the budget.
template <class T, class Convert, class Assign>
Status ReadMember(MapReader& reader, std::string_view key, Convert convert, Assign assign) {
  const Node* node = reader.Find(key);
  if (node == nullptr) {
    return Ok();
  }
  Converted<T> value = convert(*node);
  if (!value) {
    return Err(FieldError(reader.PathOf(key), value.error()));
  }
  size_t bytes = 0;
  if constexpr (std::is_same_v<T, std::string>) {
    bytes = value->size();
  } else if constexpr (std::is_same_v<T, const std::string*>) {
    bytes = (*value)->size();
  }
  if (!reader.context()->Spend(bytes)) {
    return Err(reader.context()->Exhausted(reader.PathOf(key)));
  }
  assign(std::move(*value));
  return Ok();
}

}  // namespace

Status MapReader::Read(std::string_view key, std::string* out) {
  return ReadMember<const std::string*>(*this, key, StringOf,
                                        [&](const std::string* text) { *out = *text; });
}

Status MapReader::ReadRequired(std::string_view key, std::string* out) {
  RETURN_IF_ERROR(Read(key, out));
  if (out->empty()) {
    return Err(FieldError(PathOf(key), "required"));
  }
  return Ok();
}

Status MapReader::Read(std::string_view key, bool* out) {
  return ReadMember<bool>(*this, key, BoolOf, [&](bool value) { *out = value; });
}

Status MapReader::Read(std::string_view key, std::optional<bool>* out) {
  return ReadMember<bool>(*this, key, BoolOf, [&](bool value) { *out = value; });
}

namespace {

template <class T>
Status ReadInt(MapReader& reader, std::string_view key, T* out) {
  using Limits = std::numeric_limits<typename T::value_type>;
  return ReadMember<int64_t>(
      reader, key, [](const Node& node) { return IntegerOf(node, Limits::min(), Limits::max()); },
      [&](int64_t value) { *out = static_cast<typename T::value_type>(value); });
}

}  // namespace

Status MapReader::Read(std::string_view key, int32_t* out) {
  std::optional<int32_t> value;
  RETURN_IF_ERROR(ReadInt(*this, key, &value));
  *out = value.value_or(*out);
  return Ok();
}

Status MapReader::Read(std::string_view key, int64_t* out) {
  std::optional<int64_t> value;
  RETURN_IF_ERROR(ReadInt(*this, key, &value));
  *out = value.value_or(*out);
  return Ok();
}

Status MapReader::Read(std::string_view key, std::optional<int32_t>* out) {
  return ReadInt(*this, key, out);
}

Status MapReader::Read(std::string_view key, std::optional<int64_t>* out) {
  return ReadInt(*this, key, out);
}

namespace {

// The items of list member `key`, each converted with `convert`; absent is none.
template <class T, class Convert>
Result<std::optional<std::vector<T>>> ReadListMember(MapReader& reader, std::string_view key,
                                                     Convert convert) {
  const Node* node = reader.Find(key);
  if (node == nullptr) {
    return std::optional<std::vector<T>>();
  }
  if (!reader.context()->Spend()) {
    return Err(reader.context()->Exhausted(reader.PathOf(key)));
  }
  if (node->kind != NodeKind::kSequence) {
    return Err(FieldError(reader.PathOf(key), "expected a list, got " + Describe(*node)));
  }
  std::vector<T> items;
  items.reserve(node->children.size());
  for (size_t i = 0; i < node->children.size(); ++i) {
    auto value = convert(*node->children[i]);
    if (!value) {
      return Err(FieldError(Indexed(reader.PathOf(key), i), value.error()));
    }
    size_t bytes = 0;
    if constexpr (std::is_same_v<T, std::string>) {
      bytes = value->size();
    }
    if (!reader.context()->Spend(bytes)) {
      return Err(reader.context()->Exhausted(Indexed(reader.PathOf(key), i)));
    }
    items.push_back(std::move(*value));
  }
  return std::optional<std::vector<T>>(std::move(items));
}

}  // namespace

namespace {

Converted<std::string> StringCopyOf(const Node& node) {
  auto text = StringOf(node);
  if (!text) {
    return tl::unexpected(text.error());
  }
  return **text;
}

}  // namespace

Status MapReader::Read(std::string_view key, std::vector<std::string>* out) {
  ASSIGN_OR_RETURN(auto items, ReadListMember<std::string>(*this, key, StringCopyOf));
  if (items) {
    *out = std::move(*items);
  }
  return Ok();
}

Status MapReader::Read(std::string_view key, std::optional<std::vector<std::string>>* out) {
  ASSIGN_OR_RETURN(auto items, ReadListMember<std::string>(*this, key, StringCopyOf));
  if (items) {
    *out = std::move(items);
  }
  return Ok();
}

Status MapReader::Read(std::string_view key, std::vector<int64_t>* out) {
  auto convert = [](const Node& node) {
    return IntegerOf(node, std::numeric_limits<int64_t>::min(),
                     std::numeric_limits<int64_t>::max());
  };
  ASSIGN_OR_RETURN(auto items, ReadListMember<int64_t>(*this, key, convert));
  if (items) {
    *out = std::move(*items);
  }
  return Ok();
}

namespace {

// A mapping member whose values are converted with `convert` (null values: `null_value`).
template <class Convert>
Status ReadMapMember(MapReader& reader, std::string_view key, Convert convert, bool skip_null,
                     std::map<std::string, std::string>* out) {
  ASSIGN_OR_RETURN(MapReader map, reader.Map(key));
  if (map.node() == nullptr) {
    return Ok();
  }
  std::map<std::string, std::string> values;
  for (const auto& [name, node] : map.Members()) {
    if (node->kind == NodeKind::kNull) {
      if (!skip_null) {
        values[std::string(name)];
      }
      continue;
    }
    Converted<std::string> value = convert(*node);
    if (!value) {
      return Err(FieldError(map.PathOf(name), value.error()));
    }
    if (!reader.context()->Spend(name.size() + value->size())) {
      return Err(reader.context()->Exhausted(map.PathOf(name)));
    }
    values[std::string(name)] = std::move(*value);
  }
  *out = std::move(values);
  return Ok();
}

}  // namespace

Status MapReader::Read(std::string_view key, std::map<std::string, std::string>* out) {
  // A null value reads as "", as Go decodes null into a string.
  return ReadMapMember(*this, key, StringCopyOf, false, out);
}

Status MapReader::ReadRedacted(std::string_view key, std::string* out) {
  return ReadMember<std::string>(*this, key, RedactedStringOf,
                                 [&](std::string value) { *out = std::move(value); });
}

Status MapReader::ReadRedacted(std::string_view key, std::map<std::string, std::string>* out) {
  return ReadMapMember(*this, key, RedactedStringOf, false, out);
}

Status MapReader::ReadQuantity(std::string_view key, std::string* out) {
  return ReadMember<std::string>(*this, key, QuantityOf,
                                 [&](std::string value) { *out = std::move(value); });
}

Status MapReader::ReadQuantities(std::string_view key, std::map<std::string, std::string>* out) {
  return ReadMapMember(*this, key, QuantityOf, true, out);
}

Status MapReader::ReadIntOrString(std::string_view key, std::string* out) {
  return ReadMember<std::string>(*this, key, IntOrStringOf,
                                 [&](std::string value) { *out = std::move(value); });
}

Result<MapReader> MapReader::Map(std::string_view key) {
  const Node* node = Find(key);
  if (node == nullptr) {
    return MapReader(context_, nullptr, PathOf(key));
  }
  return Open(context_, node, PathOf(key));
}

Status MapReader::ForEach(std::string_view key,
                          const std::function<Status(MapReader&, size_t)>& read) {
  const Node* node = Find(key);
  if (node == nullptr) {
    return Ok();
  }
  const std::string path = PathOf(key);
  if (!context_->Spend()) {
    return Err(context_->Exhausted(path));
  }
  if (node->kind != NodeKind::kSequence) {
    return Err(FieldError(path, "expected a list, got " + Describe(*node)));
  }
  for (size_t i = 0; i < node->children.size(); ++i) {
    const Node* item = node->children[i];
    if (item->kind != NodeKind::kMap) {
      return Err(FieldError(Indexed(path, i), "expected a mapping, got " + Describe(*item)));
    }
    ASSIGN_OR_RETURN(MapReader reader, Open(context_, item, Indexed(path, i)));
    RETURN_IF_ERROR(read(reader, i));
  }
  return Ok();
}

std::vector<std::pair<std::string_view, const Node*>> MapReader::Members() {
  std::vector<std::pair<std::string_view, const Node*>> out;
  out.reserve(read_.size());
  for (size_t i = 0; i < read_.size(); ++i) {
    read_[i] = true;
    out.emplace_back(node_->children[2 * i]->text, node_->children[2 * i + 1]);
  }
  return out;
}

void MapReader::WarnUnread(std::initializer_list<std::string_view> silent) {
  for (size_t i = 0; i < read_.size(); ++i) {
    const std::string& key = node_->children[2 * i]->text;
    if (read_[i] || std::find(silent.begin(), silent.end(), key) != silent.end()) {
      continue;
    }
    context_->Warn(PathOf(key) + ": not supported, ignored");
  }
}

}  // namespace comet::kube::yaml
