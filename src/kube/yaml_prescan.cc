// internal::CheckFlowStructure: one cheap pass over YAML text before yaml-cpp sees it, for what
// yaml-cpp handles badly. (1) yaml-cpp tokenizes a whole flow collection that sits where a key
// could start ("- [1, 2, ...]", a document that is one "[...]") before it reports a single event,
// ~300 bytes a token: 8 MiB of "[1,1,1..." would cost a gigabyte and seconds before any limit
// could apply. (2) It accepts a double-quoted scalar cut off by the end of the text ("abc<EOF>")
// as if it were closed, so truncated files would read as valid. (3) Nesting of flow collections
// gets a position here rather than yaml-cpp's deep-recursion error.
// The pass knows just enough YAML to find flow collections and quoted scalars: comments, quotes
// starting where a node starts, block scalars (skipped by indentation) and document markers. It
// only rejects text on a limit or an unterminated quote; everything else is yaml-cpp's to judge.
#include <optional>

#include <fmt/format.h>

#include "kube/yaml_tree.h"

namespace comet::kube::yaml::internal {
namespace {

bool IsBlank(char c) {
  return c == ' ' || c == '\t';
}

bool IsFlowIndicator(char c) {
  return c == ',' || c == '[' || c == ']' || c == '{' || c == '}';
}

// "---" or "..." at column 0, alone or followed by a blank: a document marker.
bool IsDocumentMarker(std::string_view line) {
  return (line.starts_with("---") || line.starts_with("...")) &&
         (line.size() == 3 || IsBlank(line[3]));
}

class FlowScanner {
 public:
  FlowScanner(std::string_view text, const Limits& limits) : text_(text), limits_(limits) {}

  Status Run() {
    size_t start = 0;
    while (start < text_.size()) {
      size_t end = text_.find('\n', start);
      if (end == std::string_view::npos) {
        end = text_.size();
      }
      std::string_view line = text_.substr(start, end - start);
      if (line.ends_with('\r')) {
        line.remove_suffix(1);
      }
      RETURN_IF_ERROR(Line(line, start));
      start = end + 1;
    }
    if (quote_ != 0) {
      return Err(Error::Invalid(
          fmt::format("{}: unterminated quoted string", PositionOf(text_, quote_offset_))));
    }
    return Ok();
  }

 private:
  Status Line(std::string_view line, size_t offset) {
    size_t indent = line.find_first_not_of(' ');
    if (indent == std::string_view::npos) {
      indent = line.size();
    }
    size_t from = 0;
    if (quote_ == 0) {
      if (in_block_scalar_) {
        const bool blank = line.find_first_not_of(" \t") == std::string_view::npos;
        if (blank || (static_cast<int>(indent) > block_parent_indent_ && !IsDocumentMarker(line))) {
          return Ok();
        }
        in_block_scalar_ = false;
      }
      if (IsDocumentMarker(line)) {
        flow_depth_ = 0;  // a flow collection cannot span documents; yaml-cpp says so
        from = 3;
      }
      if (flow_depth_ == 0) {
        node_start_ = true;
      }
    }
    node_column_ = static_cast<int>(indent);
    parent_column_ = -1;
    for (size_t j = from; j < line.size(); ++j) {
      ASSIGN_OR_RETURN(bool rest_of_line_done, Char(line, j, offset));
      if (rest_of_line_done) {
        break;
      }
    }
    return Ok();
  }

  // Scans line[j] (advancing j past multi-byte tokens); true when the rest of the line is a
  // comment or a block scalar header.
  Result<bool> Char(std::string_view line, size_t& j, size_t offset) {
    const char c = line[j];
    if (quote_ != 0) {
      QuotedChar(line, j);
      return false;
    }
    if (IsBlank(c)) {
      return false;
    }
    if (c == '#' && (j == 0 || IsBlank(line[j - 1]))) {
      return true;
    }
    if (node_start_) {
      if (std::optional<bool> done = NodeStartChar(line, j, offset)) {
        return *done;
      }
    }
    return StructureChar(line, j, offset);
  }

  // Inside a quoted scalar: escapes, and the closing quote.
  void QuotedChar(std::string_view line, size_t& j) {
    const char c = line[j];
    // "\x" in double quotes, '' in single ones: the next character does not close the scalar.
    const bool escape = (quote_ == '"' && c == '\\') ||
                        (quote_ == '\'' && c == '\'' && j + 1 < line.size() && line[j + 1] == '\'');
    if (escape) {
      ++j;
    } else if (c == quote_) {
      quote_ = 0;
      node_start_ = false;
    }
  }

  // Where a node may start: quotes, anchors, tags and aliases, block scalar headers and the
  // block indicators. nullopt when `c` is none of those.
  std::optional<bool> NodeStartChar(std::string_view line, size_t& j, size_t offset) {
    const char c = line[j];
    node_column_ = static_cast<int>(j);
    if (c == '"' || c == '\'') {
      quote_ = c;
      quote_offset_ = offset + j;
      return false;
    }
    if (c == '&' || c == '!' || c == '*') {  // anchor, tag, alias: a name up to a blank
      while (j + 1 < line.size() && !IsBlank(line[j + 1]) &&
             !(flow_depth_ > 0 && IsFlowIndicator(line[j + 1]))) {
        ++j;
      }
      node_start_ = c != '*';
      return false;
    }
    if ((c == '|' || c == '>') && flow_depth_ == 0) {
      // Its lines are those indented deeper than the key or entry it is the value of; with
      // neither on this line (a document that is a block scalar), all up to the next marker.
      in_block_scalar_ = true;
      block_parent_indent_ = parent_column_;
      return true;
    }
    const bool followed_by_blank = j + 1 == line.size() || IsBlank(line[j + 1]);
    if ((c == '-' || c == '?' || c == ':') && followed_by_blank) {
      if (c == '-' && flow_depth_ == 0) {
        parent_column_ = static_cast<int>(j);
      }
      return false;  // an indicator; a node may still start
    }
    return std::nullopt;
  }

  // Flow collections' brackets and commas, mapping values' ':', and plain scalar text.
  Result<bool> StructureChar(std::string_view line, size_t j, size_t offset) {
    const char c = line[j];
    const bool followed_by_blank = j + 1 == line.size() || IsBlank(line[j + 1]);
    if ((c == '[' || c == '{') && (node_start_ || flow_depth_ > 0)) {
      return Open(offset + j);
    }
    if (flow_depth_ > 0 && c == ',') {
      RETURN_IF_ERROR(Entry(offset + j));
      node_start_ = true;
      return false;
    }
    if (flow_depth_ > 0 && (c == ']' || c == '}')) {
      --flow_depth_;
      node_start_ = false;
      return false;
    }
    const bool after_quote = j > 0 && (line[j - 1] == '"' || line[j - 1] == '\'');
    if (c == ':' && (followed_by_blank || (flow_depth_ > 0 && after_quote))) {
      if (flow_depth_ == 0) {
        parent_column_ = node_column_;  // the key's column
      }
      node_start_ = true;
      return false;
    }
    node_start_ = false;  // inside a plain scalar
    return false;
  }

  Result<bool> Open(size_t at) {
    if (++flow_depth_ > limits_.max_depth) {
      return Err(Error::Invalid(fmt::format("{}: nested deeper than {} levels",
                                            PositionOf(text_, at), limits_.max_depth)));
    }
    RETURN_IF_ERROR(Entry(at));
    node_start_ = true;
    return false;
  }

  Status Entry(size_t at) {
    if (++flow_entries_ > limits_.max_flow_entries) {
      return Err(Error::Invalid(fmt::format("{}: more than {} entries in flow collections",
                                            PositionOf(text_, at), limits_.max_flow_entries)));
    }
    return Ok();
  }

  std::string_view text_;
  const Limits& limits_;
  int flow_depth_ = 0;
  size_t flow_entries_ = 0;
  bool node_start_ = true;
  char quote_ = 0;  // '"' or '\'' while inside a quoted scalar
  size_t quote_offset_ = 0;
  bool in_block_scalar_ = false;
  int block_parent_indent_ = 0;
  int node_column_ = 0;     // where the last node on this line started (a key, before ':')
  int parent_column_ = -1;  // the column of this line's last key or '-' entry, or -1
};

}  // namespace

Status CheckFlowStructure(std::string_view text, const Limits& limits) {
  return FlowScanner(text, limits).Run();
}

}  // namespace comet::kube::yaml::internal
