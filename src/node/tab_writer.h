// Elastic tab stops as kubectl prints tables and `describe` (Go's text/tabwriter, no flags): text
// whose cells end in '\t'; the cells of one column in consecutive lines that all have that
// column form a block padded to the block's widest cell plus `padding` (at least `min_width`);
// the last cell of a line is never padded. Widths count UTF-8 characters. Thread-safe (pure).
#ifndef COMET_NODE_TAB_WRITER_H_
#define COMET_NODE_TAB_WRITER_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace comet::node {

// Aligns `text` (lines ending in '\n'; a missing final newline is kept missing).
[[nodiscard]] std::string AlignTabs(std::string_view text, size_t min_width, size_t padding);

}  // namespace comet::node

#endif  // COMET_NODE_TAB_WRITER_H_
