#include "cli/help_text.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/strings.h"

namespace comet::cli {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  return Split(text, '\n');
}

TEST(WrapHelpTest, ShortLinesAreKeptAsWritten) {
  const std::string text = "Flags:\n  --rm            remove the pod\n\n  -d, --detach    detach\n";
  EXPECT_EQ(WrapHelp(text), text);
}

TEST(WrapHelpTest, ProseWrapsAtTheWidth) {
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += "word" + std::to_string(i) + " ";
  }
  text.pop_back();
  std::string wrapped = WrapHelp(text + "\nnext");
  std::vector<std::string> lines = Lines(wrapped);
  ASSERT_GT(lines.size(), 2u);
  EXPECT_EQ(lines.back(), "next");
  for (const std::string& line : lines) {
    EXPECT_LE(line.size(), 96u) << line;
    EXPECT_NE(line.front(), ' ') << line;
  }
  EXPECT_EQ(lines[0].substr(0, 12), "word0 word1 ");
}

TEST(WrapHelpTest, FlagDescriptionsWrapUnderTheirColumn) {
  const std::string flag = "  --pull-policy=POLICY   ";
  std::string description;
  for (int i = 0; i < 30; ++i) {
    description += "pull" + std::to_string(i) + " ";
  }
  description.pop_back();
  std::vector<std::string> lines = Lines(WrapHelp("Flags:\n" + flag + description + "\n"));
  ASSERT_GE(lines.size(), 4u);
  EXPECT_EQ(lines[0], "Flags:");
  EXPECT_EQ(lines[1].substr(0, flag.size() + 5), flag + "pull0");
  const std::string hang(flag.size(), ' ');
  for (size_t i = 2; i + 1 < lines.size(); ++i) {
    EXPECT_EQ(lines[i].substr(0, hang.size()), hang) << lines[i];
    EXPECT_NE(lines[i][hang.size()], ' ') << lines[i];
  }
  for (const std::string& line : lines) {
    EXPECT_LE(line.size(), 96u) << line;
  }
  EXPECT_EQ(lines.back(), "");
}

TEST(WrapHelpTest, IndentedTextKeepsItsIndentation) {
  const std::string indent(29, ' ');
  std::string text = indent;
  for (int i = 0; i < 20; ++i) {
    text += "more" + std::to_string(i) + " ";
  }
  text.pop_back();
  std::vector<std::string> lines = Lines(WrapHelp("  --insecure-options=OPTION,...\n" + text));
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[0], "  --insecure-options=OPTION,...");
  for (size_t i = 1; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].substr(0, indent.size()), indent) << lines[i];
    EXPECT_NE(lines[i][indent.size()], ' ') << lines[i];
    EXPECT_LE(lines[i].size(), 96u) << lines[i];
  }
}

}  // namespace
}  // namespace comet::cli
