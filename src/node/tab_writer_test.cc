// Tests of AlignTabs: Go text/tabwriter's column blocks, as kubectl's output relies on them.
#include "node/tab_writer.h"

#include <gtest/gtest.h>

namespace comet::node {
namespace {

TEST(AlignTabs, ColumnsPadToTheWidestCellOfTheirBlock) {
  EXPECT_EQ(AlignTabs("a\tbb\tc\nlong\tx\ty\n", 0, 2),
            "a     bb  c\n"
            "long  x   y\n");
  // Minimum width, as kubectl's table has it.
  EXPECT_EQ(AlignTabs("A\tB\n", 6, 3), "A     B\n");
}

TEST(AlignTabs, ALineWithoutTheColumnEndsTheBlock) {
  EXPECT_EQ(AlignTabs("Name:\tweb\nContainers:\n  web:\n    Image:\tbusybox\n"
                      "      Started:\tnow\n",
                      0, 2),
            "Name:  web\n"
            "Containers:\n"
            "  web:\n"
            "    Image:      busybox\n"
            "      Started:  now\n");
  // An empty first cell continues the block (kubectl's multi-line labels).
  EXPECT_EQ(AlignTabs("Labels:\ta=1\n\tb=2\nIP:\t1.2.3.4\n", 0, 2),
            "Labels:  a=1\n"
            "         b=2\n"
            "IP:      1.2.3.4\n");
}

TEST(AlignTabs, NestedColumnsAndUtf8) {
  EXPECT_EQ(AlignTabs("x\ty\tz\nxx\tyyy\nx\ty\tz\n", 0, 1),
            "x  y z\n"
            "xx yyy\n"
            "x  y z\n");
  EXPECT_EQ(AlignTabs("\xc3\xa9\tb\nab\tc\n", 0, 1), "\xc3\xa9  b\nab c\n");
  EXPECT_EQ(AlignTabs("a\tb", 0, 1), "a b");  // no final newline: none added
  EXPECT_EQ(AlignTabs("", 0, 1), "");
}

}  // namespace
}  // namespace comet::node
