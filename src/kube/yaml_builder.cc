// internal::ParseYamlStream: yaml-cpp's parser events turned into yaml::Node trees under the
// limits of yaml_tree.h. The limits are enforced as the events arrive, and the only way to stop
// yaml-cpp's parser midway is to throw out of an event handler: BuildFailure is thrown there and
// caught in ParseYamlStream, with yaml-cpp's own exceptions; nothing leaves this file.
#include <istream>
#include <sstream>
#include <string_view>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
// YAML::Node's definition: parser.h declares it, and clang-tidy would otherwise take that
// declaration for a misplaced one of our yaml::Node (bugprone-forward-declaration-namespace).
#include <yaml-cpp/node/node.h>
#include <yaml-cpp/parser.h>

#include "base/strings.h"
#include "kube/yaml_tree.h"

namespace comet::kube::yaml::internal {
namespace {

constexpr size_t kMaxShownKey = 100;

struct BuildFailure {
  YAML::Mark mark;
  std::string message;
};

std::string Where(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) {
    return {};
  }
  return fmt::format("line {}, column {}", mark.line + 1, mark.column + 1);
}

Error MarkedError(const YAML::Mark& mark, std::string_view message) {
  std::string where = Where(mark);
  return Error::Invalid(where.empty() ? std::string(message)
                                      : fmt::format("{}: {}", where, message));
}

Tag TagOf(const std::string& tag) {
  static constexpr std::string_view kCore = "tag:yaml.org,2002:";
  if (!tag.starts_with(kCore)) {
    return Tag::kOther;
  }
  std::string_view name = std::string_view(tag).substr(kCore.size());
  if (name == "str") {
    return Tag::kStr;
  }
  if (name == "int") {
    return Tag::kInt;
  }
  if (name == "float") {
    return Tag::kFloat;
  }
  if (name == "bool") {
    return Tag::kBool;
  }
  if (name == "null") {
    return Tag::kNull;
  }
  return Tag::kOther;
}

bool IsMergeKey(const Node& key) {
  return key.kind == NodeKind::kScalar && key.plain && key.tag == Tag::kNone && key.text == "<<";
}

class TreeBuilder final : public YAML::EventHandler {
 public:
  TreeBuilder(Stream* stream, const Limits& limits) : stream_(stream), limits_(limits) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++document_count_ > limits_.max_documents) {
      Fail(mark, fmt::format("more than {} documents", limits_.max_documents));
    }
    document_line_ = mark.line + 1;
    root_ = nullptr;
    anchors_.clear();
  }

  void OnDocumentEnd() override {
    const Node* root = root_;
    if (root == nullptr) {
      root = NewNode(NodeKind::kNull, YAML::Mark::null_mark());
    }
    stream_->AddDocument({static_cast<int>(document_count_), document_line_, root});
  }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Node* node = NewNode(NodeKind::kNull, mark);
    Define(anchor, node);
    Attach(node, mark);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (anchor >= anchors_.size() || anchors_[anchor] == nullptr) {
      Fail(mark, "unknown alias");
    }
    if (anchors_[anchor] == &kUnfinished) {
      Fail(mark, "an alias to a node that encloses it (a cycle)");
    }
    Attach(anchors_[anchor], mark);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    Node* node = NewNode(NodeKind::kScalar, mark);
    // yaml-cpp: "?" for a plain scalar, "!" for a quoted or block one, else an explicit tag.
    node->plain = tag == "?";
    node->tag = tag == "?" || tag == "!" ? Tag::kNone : TagOf(tag);
    node->text = value;
    Define(anchor, node);
    Attach(node, mark);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value /*style*/) override {
    Open(NodeKind::kSequence, mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value /*style*/) override {
    Open(NodeKind::kMap, mark, anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    Node* node;
    YAML::Mark mark;
    YAML::anchor_t anchor;
  };

  [[noreturn]] static void Fail(const YAML::Mark& mark, std::string message) {
    throw BuildFailure{mark, std::move(message)};
  }

  void Count(const YAML::Mark& mark, size_t nodes) {
    node_count_ += nodes;
    if (node_count_ > limits_.max_nodes) {
      Fail(mark, fmt::format("more than {} nodes", limits_.max_nodes));
    }
  }

  Node* NewNode(NodeKind kind, const YAML::Mark& mark) {
    Count(mark, 1);
    Node* node = stream_->NewNode();
    node->kind = kind;
    if (!mark.is_null() && mark.line >= 0) {
      node->line = mark.line + 1;
      node->column = mark.column + 1;
    }
    return node;
  }

  void Define(YAML::anchor_t anchor, const Node* node) {
    if (anchor == YAML::NullAnchor) {
      return;
    }
    if (anchor >= anchors_.size()) {
      anchors_.resize(anchor + 1, nullptr);
    }
    anchors_[anchor] = node;
  }

  void Open(NodeKind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (stack_.size() >= static_cast<size_t>(limits_.max_depth)) {
      Fail(mark, fmt::format("nested deeper than {} levels", limits_.max_depth));
    }
    Node* node = NewNode(kind, mark);
    Define(anchor, &kUnfinished);
    stack_.push_back({node, mark, anchor});
  }

  void Close() {
    Frame frame = stack_.back();
    stack_.pop_back();
    if (frame.node->kind == NodeKind::kMap) {
      FinishMap(frame.node, frame.mark);
    }
    Define(frame.anchor, frame.node);
    Attach(frame.node, frame.mark);
  }

  void Attach(const Node* node, const YAML::Mark& mark) {
    if (stack_.empty()) {
      root_ = node;
      return;
    }
    Node* parent = stack_.back().node;
    if (parent->kind == NodeKind::kMap && parent->children.size() % 2 == 0 &&
        node->kind != NodeKind::kScalar) {
      Fail(mark, "a mapping key must be a scalar");
    }
    parent->children.push_back(node);
  }

  // Applies merge keys (`<<: *base` or `<<: [*a, *b]`: the keys of those maps the map does not
  // set itself, earlier maps first, as go-yaml does) and rejects duplicate keys, as Kubernetes'
  // strict decoding does.
  void FinishMap(Node* map, const YAML::Mark& mark) {
    std::vector<const Node*> merged;
    std::vector<const Node*> sources;
    for (size_t i = 0; i < map->children.size(); i += 2) {
      const Node* key = map->children[i];
      const Node* value = map->children[i + 1];
      if (!IsMergeKey(*key)) {
        merged.push_back(key);
        merged.push_back(value);
        continue;
      }
      if (value->kind == NodeKind::kMap) {
        sources.push_back(value);
      } else if (value->kind == NodeKind::kSequence) {
        for (const Node* item : value->children) {
          if (item->kind != NodeKind::kMap) {
            Fail(mark, "a merge key's sequence must hold mappings");
          }
          sources.push_back(item);
        }
      } else {
        Fail(mark, "a merge key's value must be a mapping or a sequence of mappings");
      }
    }
    std::unordered_set<std::string_view> keys;
    for (size_t i = 0; i < merged.size(); i += 2) {
      if (!keys.insert(merged[i]->text).second) {
        YAML::Mark at = mark;
        at.line = merged[i]->line - 1;
        at.column = merged[i]->column - 1;
        Fail(at, fmt::format("duplicate key \"{}\"", Printable(merged[i]->text, kMaxShownKey)));
      }
    }
    if (sources.empty()) {
      return;
    }
    for (const Node* source : sources) {
      Count(mark, source->children.size());  // copies count: merges cannot multiply for free
      for (size_t i = 0; i < source->children.size(); i += 2) {
        if (keys.insert(source->children[i]->text).second) {
          merged.push_back(source->children[i]);
          merged.push_back(source->children[i + 1]);
        }
      }
    }
    map->children = std::move(merged);
  }

  static const Node kUnfinished;  // an anchor whose node is still open

  Stream* stream_;
  const Limits& limits_;
  std::vector<Frame> stack_;
  std::vector<const Node*> anchors_;  // by yaml-cpp's anchor number, per document
  const Node* root_ = nullptr;
  size_t node_count_ = 0;
  size_t document_count_ = 0;
  int document_line_ = 0;
};

const Node TreeBuilder::kUnfinished{};

}  // namespace

Status ParseYamlStream(std::string_view text, const Limits& limits, Stream* out) {
  std::istringstream input{std::string(text)};
  TreeBuilder builder(out, limits);
  try {
    YAML::Parser parser(input);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const BuildFailure& failure) {
    return Err(MarkedError(failure.mark, failure.message));
  } catch (const YAML::Exception& e) {
    return Err(MarkedError(e.mark, e.msg));
  } catch (const std::exception& e) {  // std::bad_alloc, or anything else from yaml-cpp
    return Err(Error::Invalid(fmt::format("yaml: {}", e.what())));
  }
  return Ok();
}

}  // namespace comet::kube::yaml::internal
