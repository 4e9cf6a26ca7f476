#include "kube/yaml_tree.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace comet::kube::yaml {
namespace {

using std::chrono::steady_clock;

// The value of key `key` in map `map`, or null.
const Node* Get(const Node* map, std::string_view key) {
  for (size_t i = 0; i + 1 < map->children.size(); i += 2) {
    if (map->children[i]->text == key) {
      return map->children[i + 1];
    }
  }
  return nullptr;
}

std::string ErrorOf(std::string_view text, const Limits& limits = {}) {
  auto stream = ParseStream(text, limits);
  return stream ? std::string("(parsed)") : stream.error().message();
}

TEST(YamlTreeTest, BuildsDocumentsWithPositions) {
  auto stream = ParseStream("a: 1\nb: [x, 'y']\n---\n---\nc: |\n  text\n");
  ASSERT_TRUE(stream) << stream.error().ToString();
  const auto& docs = stream->documents();
  ASSERT_EQ(docs.size(), 3U);
  EXPECT_EQ(docs[0].number, 1);
  EXPECT_EQ(docs[1].root->kind, NodeKind::kNull);  // the empty one still counts
  EXPECT_EQ(docs[2].number, 3);
  const Node* b = Get(docs[0].root, "b");
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(b->kind, NodeKind::kSequence);
  EXPECT_EQ(Position(*b), "line 2, column 4");
  EXPECT_TRUE(b->children[0]->plain);
  EXPECT_FALSE(b->children[1]->plain);
  EXPECT_EQ(Get(docs[2].root, "c")->text, "text\n");
}

TEST(YamlTreeTest, ResolvesScalarsAsYaml11) {
  auto stream = ParseStream(
      "[1, 0755, 0x1F, 0b11, 1_000, -5, 1.5, 1e3, .inf, yes, Off, n, ~, null, '80', \"true\", "
      "!!str 42, !!int '7', 08, 9223372036854775808, abc, 1.2.3, '']");
  ASSERT_TRUE(stream) << stream.error().ToString();
  const auto& items = stream->documents()[0].root->children;
  auto type = [&](size_t i) { return Resolve(*items[i]).type; };
  auto integer = [&](size_t i) { return Resolve(*items[i]).integer; };
  EXPECT_EQ(integer(0), 1);
  EXPECT_EQ(integer(1), 0755);
  EXPECT_EQ(integer(2), 31);
  EXPECT_EQ(integer(3), 3);
  EXPECT_EQ(integer(4), 1000);
  EXPECT_EQ(integer(5), -5);
  EXPECT_EQ(type(6), ScalarType::kFloat);
  EXPECT_EQ(Resolve(*items[7]).number, 1000.0);
  EXPECT_EQ(type(8), ScalarType::kFloat);
  EXPECT_TRUE(Resolve(*items[9]).boolean);
  EXPECT_EQ(type(10), ScalarType::kBool);
  EXPECT_FALSE(Resolve(*items[10]).boolean);
  EXPECT_EQ(type(11), ScalarType::kBool);
  EXPECT_EQ(type(12), ScalarType::kNull);
  EXPECT_EQ(type(13), ScalarType::kNull);
  EXPECT_EQ(type(14), ScalarType::kString);  // quoted
  EXPECT_EQ(type(15), ScalarType::kString);
  EXPECT_EQ(type(16), ScalarType::kString);  // !!str
  EXPECT_EQ(integer(17), 7);                 // !!int
  EXPECT_EQ(type(18), ScalarType::kFloat);   // not octal: Go reads it as the float 8
  EXPECT_EQ(type(19), ScalarType::kFloat);   // past int64
  EXPECT_EQ(type(20), ScalarType::kString);
  EXPECT_EQ(type(21), ScalarType::kString);
  EXPECT_EQ(type(22), ScalarType::kString);
}

TEST(YamlTreeTest, AliasesShareNodesAndMergeKeysApply) {
  auto stream = ParseStream(
      "base: &base {image: busybox, tty: true}\n"
      "one: *base\n"
      "two:\n  <<: *base\n  tty: false\n"
      "three:\n  <<: [{a: 1}, {a: 2, b: 2}]\n");
  ASSERT_TRUE(stream) << stream.error().ToString();
  const Node* root = stream->documents()[0].root;
  EXPECT_EQ(Get(root, "one"), Get(root, "base"));
  const Node* two = Get(root, "two");
  EXPECT_EQ(two->size(), 2U);
  EXPECT_EQ(Get(two, "tty")->text, "false");  // its own key wins
  EXPECT_EQ(Get(two, "image")->text, "busybox");
  const Node* three = Get(root, "three");
  EXPECT_EQ(Get(three, "a")->text, "1");  // earlier maps win
  EXPECT_EQ(Get(three, "b")->text, "2");
}

TEST(YamlTreeTest, ReadsJsonStreams) {
  auto stream = ParseStream(
      "{\n\t\"kind\": \"Pod\", \"n\": 1, \"f\": 0.5, \"b\": true, \"z\": null,\n"
      "\t\"s\": \"\\ud83d\\ude00 \\u00e9\", \"port\": \"80\"}\n{\"kind\": \"ConfigMap\"}\n");
  ASSERT_TRUE(stream) << stream.error().ToString();
  ASSERT_EQ(stream->documents().size(), 2U);
  const Node* root = stream->documents()[0].root;
  EXPECT_EQ(Resolve(*Get(root, "n")).integer, 1);
  EXPECT_EQ(Resolve(*Get(root, "f")).type, ScalarType::kFloat);
  EXPECT_TRUE(Resolve(*Get(root, "b")).boolean);
  EXPECT_EQ(Get(root, "z")->kind, NodeKind::kNull);
  EXPECT_EQ(Get(root, "s")->text, "\xF0\x9F\x98\x80 \xC3\xA9");
  EXPECT_EQ(Resolve(*Get(root, "port")).type, ScalarType::kString);
  EXPECT_EQ(stream->documents()[1].number, 2);
  EXPECT_EQ(stream->documents()[1].line, 4);
}

TEST(YamlTreeTest, JsonErrorsHavePositions) {
  EXPECT_EQ(ErrorOf("{\"a\": 1,\n \"b\": }"),
            "line 2, column 7: syntax error while parsing value - unexpected '}'; expected '[', "
            "'{', or a literal");
  EXPECT_EQ(ErrorOf("{\"a\": 1}\n[1]"), "line 2, column 1: expected a JSON object");
  EXPECT_EQ(ErrorOf("{\"a\": 1}\nxyz"), "line 2, column 1: expected a JSON object");
  EXPECT_EQ(ErrorOf("{\"a\": [" + std::string(100, '[')),
            "line 1, column 70: nested deeper than 64 levels");
}

TEST(YamlTreeTest, SyntaxErrorsHaveLineAndColumn) {
  EXPECT_EQ(ErrorOf("a: 1\n\tb: 2\n"),
            "line 2, column 1: illegal tab when looking for indentation");
  EXPECT_EQ(ErrorOf("a: [1, 2\nb: 3\n"), "line 2, column 2: end of sequence flow not found");
  EXPECT_EQ(ErrorOf("spec:\n  image: \"busy"), "line 2, column 10: unterminated quoted string");
  EXPECT_EQ(ErrorOf("a: 'it''s\n"), "line 1, column 4: unterminated quoted string");
  EXPECT_EQ(ErrorOf("key: value\n  bad: indent\n"), "line 2, column 6: illegal map value");
  EXPECT_EQ(ErrorOf("a: 1\na: 2\n"), "line 2, column 1: duplicate key \"a\"");
  EXPECT_EQ(ErrorOf("a: *nope\n"), "line 1, column 4: the referenced anchor is not defined");
  EXPECT_EQ(ErrorOf("a: &x [*x]\n"),
            "line 1, column 8: an alias to a node that encloses it (a cycle)");
  EXPECT_EQ(ErrorOf("? [a]\n: b\n"), "line 1, column 3: a mapping key must be a scalar");
  EXPECT_EQ(ErrorOf("a: 1\n\x01\x02\x03"),
            "line 2, column 1: control character 0x01 (not YAML text)");
  EXPECT_EQ(ErrorOf("a: \xff\xfe"), "line 1, column 4: invalid UTF-8 (byte 0xff)");
  EXPECT_EQ(ErrorOf(std::string("a: b\0c", 6)),
            "line 1, column 5: control character 0x00 (not YAML text)");
}

TEST(YamlTreeTest, PreScanLeavesValidYamlAlone) {
  // Quotes and brackets inside plain and block scalars, comments and flow keys are not what
  // they look like to a naive scan.
  const char* text =
      "msg: it's [not flow\n"
      "url: http://x/{a}\n"
      "# a \"comment\n"
      "k: v # it's\n"
      "script: |\n  echo \"unbalanced\n  [\n  x: 'y\n"
      "list:\n- key: >-\n    it's\n  other: \"multi\n    line\"\n"
      "flow: {\"a\":1, b: [c, 'd''e']}\n"
      "--- |\n\"raw\n";
  auto stream = ParseStream(text);
  ASSERT_TRUE(stream) << stream.error().ToString();
}

TEST(YamlTreeTest, LimitsStopHostileInputQuickly) {
  const auto start = steady_clock::now();
  // Too big.
  EXPECT_EQ(ErrorOf(std::string((8 << 20) + 1, '#')),
            "8388609 bytes, more than the limit of 8388608 bytes");
  // Deep nesting, flow and block.
  EXPECT_EQ(ErrorOf("a: " + std::string(100000, '[')),
            "line 1, column 68: nested deeper than 64 levels");
  std::string block;
  for (int i = 0; i < 100; ++i) {
    block += std::string(static_cast<size_t>(i), ' ') + "-\n";
  }
  EXPECT_EQ(ErrorOf(block), "line 65, column 65: nested deeper than 64 levels");
  // A wide flow collection in a key position, which yaml-cpp would tokenize whole first.
  std::string wide = "- [";
  while (wide.size() < (8 << 20) - 10) {
    wide += "1,";
  }
  wide += "1]";
  EXPECT_EQ(ErrorOf(wide), "line 1, column 200003: more than 100000 entries in flow collections");
  // Many nodes (the limit lowered: yaml-cpp takes ~2 us a node).
  std::string many;
  while (many.size() < (1 << 20)) {
    many += "- a\n";
  }
  Limits limits;
  limits.max_nodes = 10000;
  EXPECT_EQ(ErrorOf(many, limits), "line 10000, column 3: more than 10000 nodes");
  // Many documents.
  std::string docs;
  for (int i = 0; i < 1001; ++i) {
    docs += "---\na: 1\n";
  }
  EXPECT_EQ(ErrorOf(docs), "line 2001, column 1: more than 1000 documents");
  // An alias bomb builds few nodes: the shared ones are counted where they are read.
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) {
      bomb += (k > 0 ? ", *a" : "*a") + std::to_string(i - 1);
    }
    bomb += "]\n";
  }
  auto stream = ParseStream(bomb);
  ASSERT_TRUE(stream) << stream.error().ToString();
  EXPECT_LT(stream->node_count(), 200U);
  // A merge bomb: merged copies count as nodes.
  std::string merges = "m0: &m0 {";
  for (int k = 0; k < 1000; ++k) {
    merges += (k > 0 ? ", k" : "k") + std::to_string(k) + ": v";
  }
  merges += "}\n";
  for (int i = 1; i < 2000; ++i) {
    merges += "m" + std::to_string(i) + ": {<<: *m0}\n";
  }
  limits.max_nodes = 100000;
  EXPECT_EQ(ErrorOf(merges, limits), "line 50, column 6: more than 100000 nodes");
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(20));
}

}  // namespace
}  // namespace comet::kube::yaml
