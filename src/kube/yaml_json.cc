// internal::ParseJsonStream: JSON manifests (kubectl reads text that starts with '{' as a stream
// of JSON objects, one after another) into yaml::Node trees, through nlohmann (base/json.h),
// which handles what yaml-cpp gets wrong in JSON (surrogate pairs) at a fraction of its cost.
// Nodes carry no position: nlohmann keeps none. Members of an object come in key order, and a
// repeated key keeps its last value, as Go's encoding/json does.
#include <fmt/format.h>

#include "base/json.h"
#include "kube/yaml_tree.h"

namespace comet::kube::yaml::internal {
namespace {

// The end of the JSON value starting at text[start] ('{' or '['): one past its closing bracket,
// or npos when it never closes (nlohmann then says why).
size_t ValueEnd(std::string_view text, size_t start) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

class JsonConverter {
 public:
  JsonConverter(Stream* stream, const Limits& limits) : stream_(stream), limits_(limits) {}

  Result<const Node*> Convert(const json::Json& value) {
    if (++node_count_ > limits_.max_nodes) {
      return Err(Error::Invalid(fmt::format("more than {} nodes", limits_.max_nodes)));
    }
    Node* node = stream_->NewNode();
    if (value.is_null()) {
      node->kind = NodeKind::kNull;
    } else if (value.is_string()) {
      node->kind = NodeKind::kScalar;
      node->text = value.get_ref<const std::string&>();
    } else if (value.is_boolean() || value.is_number()) {
      node->kind = NodeKind::kScalar;
      node->plain = true;  // its type comes from its text, as a plain YAML scalar's
      node->text = value.dump();
    } else if (value.is_array()) {
      node->kind = NodeKind::kSequence;
      node->children.reserve(value.size());
      for (const json::Json& item : value) {
        ASSIGN_OR_RETURN(const Node* child, Convert(item));
        node->children.push_back(child);
      }
    } else {
      node->kind = NodeKind::kMap;
      node->children.reserve(value.size() * 2);
      for (const auto& [key, member] : value.items()) {
        ASSIGN_OR_RETURN(const Node* child, Convert(json::Json(key)));
        node->children.push_back(child);
        ASSIGN_OR_RETURN(child, Convert(member));
        node->children.push_back(child);
      }
    }
    return node;
  }

 private:
  Stream* stream_;
  const Limits& limits_;
  size_t node_count_ = 0;
};

int LineOf(std::string_view text, size_t offset) {
  int line = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    line += text[i] == '\n' ? 1 : 0;
  }
  return line;
}

}  // namespace

Status ParseJsonStream(std::string_view text, const Limits& limits, Stream* out) {
  JsonConverter converter(out, limits);
  int number = 0;
  size_t pos = text.find_first_not_of(" \t\r\n");
  while (pos != std::string_view::npos) {
    if (static_cast<size_t>(number) == limits.max_documents) {
      return Err(Error::Invalid(
          fmt::format("{}: more than {} documents", PositionOf(text, pos), limits.max_documents)));
    }
    ++number;
    size_t end = text[pos] == '{' || text[pos] == '[' ? ValueEnd(text, pos) : pos + 1;
    std::string_view slice =
        text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (auto deep = json::TooDeepAt(slice, limits.max_depth)) {
      return Err(Error::Invalid(fmt::format("{}: nested deeper than {} levels",
                                            PositionOf(text, pos + *deep), limits.max_depth)));
    }
    if (text[pos] != '{') {
      return Err(Error::Invalid(fmt::format("{}: expected a JSON object", PositionOf(text, pos))));
    }
    auto parsed = json::Parse(slice);
    if (!parsed) {
      const json::ParseFailure& failure = parsed.error();
      // nlohmann counts the byte it stopped at from 1.
      const size_t at = pos + (failure.byte && *failure.byte > 0 ? *failure.byte - 1 : 0);
      return Err(Error::Invalid(fmt::format("{}: {}", PositionOf(text, at), failure.reason)));
    }
    ASSIGN_OR_RETURN(const Node* root, converter.Convert(*parsed));
    out->AddDocument({number, LineOf(text, pos), root});
    pos = end == std::string_view::npos ? end : text.find_first_not_of(" \t\r\n", end);
  }
  return Ok();
}

}  // namespace comet::kube::yaml::internal
