// Help text layout: word wrapping for CLI11 footers, with hanging indents for flag tables.
// Pure, thread-safe.
#include "cli/help_text.h"

#include <string_view>

namespace comet::cli {
namespace {

constexpr size_t kHelpWidth = 96;

// Where the continuation lines of a wrapped line start: under the description of a flag line
// ("  --flag=X        description": the column after the first run of two or more spaces past
// the indentation), else under the line's own indentation. Never past half the width, where
// too little room would be left.
size_t HangingIndent(std::string_view line) {
  size_t indent = line.find_first_not_of(' ');
  if (indent == std::string_view::npos) {
    return 0;
  }
  size_t gap = line.find("  ", indent);
  if (gap != std::string_view::npos) {
    size_t column = line.find_first_not_of(' ', gap);  // npos (trailing spaces): too far
    if (column <= kHelpWidth / 2) {
      return column;
    }
  }
  return indent <= kHelpWidth / 2 ? indent : 0;
}

// Appends `line` (no '\n') to *out, wrapped at kHelpWidth. What precedes the hanging indent is
// kept as written; the words after it are refilled.
void WrapLine(std::string_view line, std::string* out) {
  if (line.size() <= kHelpWidth) {
    out->append(line);
    return;
  }
  const size_t hang = HangingIndent(line);
  std::string current(line.substr(0, hang));
  size_t pos = hang;
  while (pos < line.size()) {
    size_t end = line.find(' ', pos);
    end = end == std::string_view::npos ? line.size() : end;
    std::string_view word = line.substr(pos, end - pos);
    pos = end + 1;
    if (word.empty()) {
      continue;
    }
    if (current.size() > hang && current.size() + 1 + word.size() > kHelpWidth) {
      out->append(current).append("\n");
      current.assign(hang, ' ');
    }
    if (current.size() > hang) {
      current += ' ';
    }
    current.append(word);
  }
  out->append(current);
}

}  // namespace

std::string WrapHelp(const std::string& text) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t end = text.find('\n', pos);
    WrapLine(std::string_view(text).substr(pos, end == std::string::npos ? end : end - pos), &out);
    if (end == std::string::npos) {
      return out;
    }
    out += '\n';
    pos = end + 1;
  }
}

}  // namespace comet::cli
