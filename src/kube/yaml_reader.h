// Typed, path-tracking reads of yaml::Node trees (yaml_tree.h) into the structs of objects.h,
// with Kubernetes' types: strings must be strings (a plain 8080 is a number, as kubectl says),
// integers integers, quantities and int-or-string ports either. Errors name the field path
// ("spec.containers[0].ports[0].containerPort: expected an integer, got \"abc\""); members
// nobody read are warned about by path. Every node read counts against a budget shared by a
// whole stream, since aliases let a small tree be read a billion times. Paths are built only for
// messages: a read costs no allocation but its value's. Not thread-safe.
#ifndef COMET_KUBE_YAML_READER_H_
#define COMET_KUBE_YAML_READER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "kube/yaml_tree.h"

namespace comet::kube::yaml {

// An EINVAL Error "<path>: <what>" (just <what> for the root path).
[[nodiscard]] Error FieldError(std::string_view path, std::string_view what);
// "a.b", "a[3]"; keys that are not plain words are kept as written ("limits.nvidia.com/gpu").
[[nodiscard]] std::string Child(std::string_view path, std::string_view key);
[[nodiscard]] std::string Indexed(std::string_view path, size_t index);
// `value` in double quotes, escaped and cut short, for messages that echo what the YAML says.
[[nodiscard]] std::string Quoted(std::string_view value);
// How a node reads in "got ..." ("\"abc\"", "number 8080", "a list"), cut short and escaped.
[[nodiscard]] std::string Describe(const Node& node);

// The budget of one stream's reading and the warnings of one document.
class ReadContext {
 public:
  struct Budget {
    size_t max_visits = 1000000;
    size_t max_bytes = size_t{64} << 20;  // scalar text copied out
    size_t visits = 0;
    size_t bytes = 0;
  };
  // At most this many warnings per document; then one line says how many more were dropped.
  static constexpr size_t kMaxWarnings = 50;

  explicit ReadContext(Budget* budget) : budget_(budget) {}

  // Counts one node read, and `bytes` of scalar text copied out; false past the budget.
  [[nodiscard]] bool Spend(size_t bytes = 0);
  // The error for a read at `path` that Spend refused.
  [[nodiscard]] Error Exhausted(std::string_view path) const;

  void Warn(std::string warning);
  // The warnings so far, the dropped ones summed up at the end; clears them.
  [[nodiscard]] std::vector<std::string> TakeWarnings();

 private:
  Budget* budget_;
  std::vector<std::string> warnings_;
  size_t dropped_ = 0;
};

// Reads the members of one mapping. Absent and null members read as absent (as Go's JSON decoding
// treats null) and leave outputs untouched.
class MapReader {
 public:
  // `node` may be null or kNull (an empty mapping); anything else but a map is an error.
  [[nodiscard]] static Result<MapReader> Open(ReadContext* context, const Node* node,
                                              std::string path);

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string PathOf(std::string_view key) const { return Child(path_, key); }
  [[nodiscard]] ReadContext* context() const { return context_; }
  [[nodiscard]] const Node* node() const { return node_; }

  // The member's value, marked read; nullptr when absent or null.
  [[nodiscard]] const Node* Find(std::string_view key);
  // Whether the member is there, even as null; marks it read.
  [[nodiscard]] bool Has(std::string_view key);

  [[nodiscard]] Status Read(std::string_view key, std::string* out);
  [[nodiscard]] Status Read(std::string_view key, bool* out);
  [[nodiscard]] Status Read(std::string_view key, std::optional<bool>* out);
  [[nodiscard]] Status Read(std::string_view key, int32_t* out);
  [[nodiscard]] Status Read(std::string_view key, int64_t* out);
  [[nodiscard]] Status Read(std::string_view key, std::optional<int32_t>* out);
  [[nodiscard]] Status Read(std::string_view key, std::optional<int64_t>* out);
  [[nodiscard]] Status Read(std::string_view key, std::vector<std::string>* out);
  [[nodiscard]] Status Read(std::string_view key, std::optional<std::vector<std::string>>* out);
  [[nodiscard]] Status Read(std::string_view key, std::vector<int64_t>* out);
  [[nodiscard]] Status Read(std::string_view key, std::map<std::string, std::string>* out);
  // A resource.Quantity: a string, or a number kept as written ("0.5", "128974848").
  [[nodiscard]] Status ReadQuantity(std::string_view key, std::string* out);
  // A map of quantities (resources.limits).
  [[nodiscard]] Status ReadQuantities(std::string_view key,
                                      std::map<std::string, std::string>* out);
  // An IntOrString (a probe's port): an integer becomes its decimal text.
  [[nodiscard]] Status ReadIntOrString(std::string_view key, std::string* out);
  // As Read, for values that may be secret (Secret data, env values): errors say what type the
  // value has, never what it is.
  [[nodiscard]] Status ReadRedacted(std::string_view key, std::string* out);
  [[nodiscard]] Status ReadRedacted(std::string_view key, std::map<std::string, std::string>* out);
  // As Read(string), but absent or empty is "<path>.<key>: required".
  [[nodiscard]] Status ReadRequired(std::string_view key, std::string* out);

  // A mapping member (absent: an empty one).
  [[nodiscard]] Result<MapReader> Map(std::string_view key);
  // Calls `read` for each item of a list of mappings, with the item's reader and index.
  [[nodiscard]] Status ForEach(std::string_view key,
                               const std::function<Status(MapReader&, size_t)>& read);
  // The members in order (for maps keyed by data, such as labels), all marked read.
  [[nodiscard]] std::vector<std::pair<std::string_view, const Node*>> Members();

  // Warns "<path>.<key>: not supported, ignored" for each member not read, but those named in
  // `silent` (fields the API server fills in, which comet has no use for).
  void WarnUnread(std::initializer_list<std::string_view> silent = {});

 private:
  MapReader(ReadContext* context, const Node* node, std::string path);
  [[nodiscard]] Result<const Node*> Scalar(std::string_view key);

  ReadContext* context_;
  const Node* node_;  // kMap, or null for an empty mapping
  std::string path_;
  std::vector<bool> read_;  // per member
};

}  // namespace comet::kube::yaml

#endif  // COMET_KUBE_YAML_READER_H_
