// A YAML (or JSON) stream as a tree of plain nodes, built under limits so that hostile input costs
// bounded time and memory: the size of the text, the nesting depth, the number of nodes and of
// documents. yaml-cpp builds the YAML side (through its event API: its own node tree costs
// ~500 bytes a node and cannot be stopped midway); JSON (text starting with '{', as kubectl
// sniffs it) is read by nlohmann, a stream of JSON objects. Aliases share the node they refer to,
// so readers count their visits (yaml_reader.h). yaml-cpp's exceptions stay in this file's .cc;
// errors read "line 3, column 5: <why>". Thread-compatible.
#ifndef COMET_KUBE_YAML_TREE_H_
#define COMET_KUBE_YAML_TREE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace comet::kube::yaml {

struct Limits {
  size_t max_bytes = size_t{8} << 20;
  int max_depth = 64;
  size_t max_nodes = 1000000;  // created, in the whole stream; merge keys' copies count too
  size_t max_documents = 1000;
  // Entries of YAML flow collections ("[a, b]"): yaml-cpp holds all the tokens of a flow
  // collection in a key position before it reports any of them (~300 bytes each).
  size_t max_flow_entries = 100000;
};

enum class NodeKind : uint8_t { kNull, kScalar, kSequence, kMap };

// An explicit YAML tag on a scalar (`!!str 1`), which overrides what the text resolves to.
enum class Tag : uint8_t { kNone, kStr, kInt, kFloat, kBool, kNull, kOther };

struct Node {
  NodeKind kind = NodeKind::kNull;
  // Scalars: whether the type comes from the text ("80" is a number, "yes" a boolean: plain YAML
  // scalars, JSON numbers and booleans) or it is a string whatever it reads (quoted, block).
  bool plain = false;
  Tag tag = Tag::kNone;
  int32_t line = 0;  // 1-based; 0: unknown (JSON)
  int32_t column = 0;
  std::string text;  // scalars: escapes undone
  // Sequences: the items. Maps: key, value, key, value... (keys are scalars, unique; merge keys
  // `<<` already applied).
  std::vector<const Node*> children;

  [[nodiscard]] size_t size() const {
    return kind == NodeKind::kMap ? children.size() / 2 : children.size();
  }
};

struct Document {
  int number = 0;              // 1-based, in the stream, empty documents counted
  int line = 0;                // where it starts; 0: unknown
  const Node* root = nullptr;  // never null; kNull for an empty document
};

// Owns the nodes; documents point into it. Move-only (node addresses survive moves).
class Stream {
 public:
  Stream() : nodes_(std::make_unique<std::deque<Node>>()) {}

  [[nodiscard]] const std::vector<Document>& documents() const { return documents_; }
  [[nodiscard]] size_t node_count() const { return nodes_->size(); }

  Node* NewNode() { return &nodes_->emplace_back(); }
  void AddDocument(Document document) { documents_.push_back(document); }

 private:
  std::unique_ptr<std::deque<Node>> nodes_;
  std::vector<Document> documents_;
};

// Parses a whole stream. Errors name the position: "line 3, column 5: mapping values are not
// allowed here" (1-based), or "document 4: ..." for JSON without one.
[[nodiscard]] Result<Stream> ParseStream(std::string_view text, const Limits& limits = {});

// What a scalar is, resolved as Kubernetes' YAML reader (go-yaml v2, YAML 1.1) resolves plain
// scalars: null (~, null, empty), booleans (true/false, yes/no, on/off, y/n in their three
// spellings), integers (decimal, 0x hex, 0o and leading-0 octal, 0b binary, '_' separators),
// floats (1.5, 1e3, .inf, .nan), and strings otherwise.
enum class ScalarType : uint8_t { kNull, kBool, kInt, kFloat, kString };
struct Scalar {
  ScalarType type = ScalarType::kString;
  bool boolean = false;
  int64_t integer = 0;  // kInt: the value (integers past int64 resolve as floats)
  double number = 0;    // kInt and kFloat
};
[[nodiscard]] Scalar Resolve(const Node& node);

// The position of `node` for messages ("line 3, column 5"), empty when unknown.
[[nodiscard]] std::string Position(const Node& node);

namespace internal {
// Parts of ParseStream, declared for its files and tests.
[[nodiscard]] Status CheckFlowStructure(std::string_view text, const Limits& limits);
[[nodiscard]] Status ParseJsonStream(std::string_view text, const Limits& limits, Stream* out);
[[nodiscard]] Status ParseYamlStream(std::string_view text, const Limits& limits, Stream* out);
// "line L, column C" of byte `offset` of `text` (1-based).
[[nodiscard]] std::string PositionOf(std::string_view text, size_t offset);
}  // namespace internal

}  // namespace comet::kube::yaml

#endif  // COMET_KUBE_YAML_TREE_H_
