// Help text layout: word wrapping for CLI11 footers.
#include "cli/help_text.h"

namespace comet::cli {

std::string WrapHelp(const std::string& text) {
  constexpr size_t kHelpWidth = 96;
  std::string out;
  size_t column = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == '\n') {
      out += '\n';
      column = 0;
      ++pos;
      continue;
    }
    size_t end = text.find_first_of(" \n", pos);
    end = end == std::string::npos ? text.size() : end;
    size_t length = end - pos;
    if (column > 0 && column + 1 + length > kHelpWidth) {
      out += '\n';
      column = 0;
    } else if (column > 0) {
      out += ' ';
      ++column;
    }
    out.append(text, pos, length);
    column += length;
    pos = end < text.size() && text[end] == ' ' ? end + 1 : end;
  }
  return out;
}

}  // namespace comet::cli
