// AlignTabs (see tab_writer.h).
#include "node/tab_writer.h"

#include <algorithm>
#include <vector>

namespace comet::node {
namespace {

using Line = std::vector<std::string_view>;  // cells; all but the last were tab-terminated

size_t Width(std::string_view cell) {
  return static_cast<size_t>(std::ranges::count_if(
      cell, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

class Aligner {
 public:
  Aligner(const std::vector<Line>& lines, size_t min_width, size_t padding, bool final_newline)
      : lines_(lines), min_width_(min_width), padding_(padding), final_newline_(final_newline) {}

  // Lays out lines [begin, end), all of which have cells in the columns widths_ covers: every
  // run of them that has a cell in the next column is a block of that column, laid out the
  // same way with that column's width added.
  void Format(size_t begin, size_t end) {
    const size_t column = widths_.size();
    size_t done = begin;
    for (size_t i = begin; i < end; ++i) {
      if (lines_[i].size() - 1 <= column) {
        continue;
      }
      Write(done, i);
      size_t width = min_width_;
      size_t block_end = i;
      for (; block_end < end && lines_[block_end].size() - 1 > column; ++block_end) {
        width = std::max(width, Width(lines_[block_end][column]) + padding_);
      }
      widths_.push_back(width);
      Format(i, block_end);
      widths_.pop_back();
      done = block_end;
      i = block_end - 1;
    }
    Write(done, end);
  }

  std::string Take() { return std::move(out_); }

 private:
  void Write(size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const Line& line = lines_[i];
      for (size_t j = 0; j < line.size(); ++j) {
        out_.append(line[j]);
        if (j < widths_.size() && j + 1 < line.size()) {
          out_.append(widths_[j] - std::min(widths_[j], Width(line[j])), ' ');
        }
      }
      if (i + 1 < lines_.size() || final_newline_) {
        out_.push_back('\n');
      }
    }
  }

  const std::vector<Line>& lines_;
  size_t min_width_;
  size_t padding_;
  bool final_newline_;
  std::vector<size_t> widths_;
  std::string out_;
};

}  // namespace

std::string AlignTabs(std::string_view text, size_t min_width, size_t padding) {
  std::vector<Line> lines;
  const bool final_newline = text.empty() || text.back() == '\n';
  if (final_newline && !text.empty()) {
    text.remove_suffix(1);
  }
  if (text.empty() && final_newline) {
    return "";
  }
  size_t start = 0;
  while (true) {
    const size_t newline = text.find('\n', start);
    std::string_view row = text.substr(
        start, newline == std::string_view::npos ? std::string_view::npos : newline - start);
    Line cells;
    size_t cell = 0;
    for (size_t tab = row.find('\t'); tab != std::string_view::npos; tab = row.find('\t', cell)) {
      cells.push_back(row.substr(cell, tab - cell));
      cell = tab + 1;
    }
    cells.push_back(row.substr(cell));
    lines.push_back(std::move(cells));
    if (newline == std::string_view::npos) {
      break;
    }
    start = newline + 1;
  }
  Aligner aligner(lines, min_width, padding, final_newline);
  aligner.Format(0, lines.size());
  return aligner.Take();
}

}  // namespace comet::node
