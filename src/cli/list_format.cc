// Formatting of `list` output.
#include "cli/list_format.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/strings.h"
#include "oci/spec_json.h"

namespace comet::cli {
namespace {

constexpr size_t kMinColumnWidth = 12;
constexpr size_t kColumnPadding = 3;

}  // namespace

std::string AlignColumns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    // The last cell of a row is not a column: it is never padded, so it does not widen one.
    for (size_t i = 0; i + 1 < row.size(); ++i) {
      if (widths.size() <= i) {
        widths.push_back(kMinColumnWidth);
      }
      widths[i] = std::max(widths[i], row[i].size() + kColumnPadding);
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) {
        out.append(widths[i] - row[i].size(), ' ');
      }
    }
    out += '\n';
  }
  return out;
}

std::string FormatListTable(const std::vector<runtime::ContainerInfo>& containers) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"});
  for (const runtime::ContainerInfo& c : containers) {
    rows.push_back({c.id, std::to_string(c.pid), c.status, c.bundle, c.created, c.owner});
  }
  return AlignColumns(rows);
}

std::string FormatListQuiet(const std::vector<runtime::ContainerInfo>& containers) {
  std::string out;
  for (const runtime::ContainerInfo& c : containers) {
    out += c.id;
    out += '\n';
  }
  return out;
}

std::string FormatListJson(const std::vector<runtime::ContainerInfo>& containers) {
  std::string out = "[";
  for (size_t i = 0; i < containers.size(); ++i) {
    const runtime::ContainerInfo& c = containers[i];
    if (i > 0) {
      out += ',';
    }
    out += fmt::format(
        R"({{"ociVersion":{},"id":{},"pid":{},"status":{},"bundle":{},"created":{},"owner":{})",
        JsonQuote(oci::kOciVersion), JsonQuote(c.id), c.pid, JsonQuote(c.status),
        JsonQuote(c.bundle), JsonQuote(c.created), JsonQuote(c.owner));
    if (!c.annotations.empty()) {
      out += R"(,"annotations":{)";
      bool first = true;
      for (const auto& [key, value] : c.annotations) {
        out += fmt::format("{}{}:{}", first ? "" : ",", JsonQuote(key), JsonQuote(value));
        first = false;
      }
      out += '}';
    }
    out += '}';
  }
  out += "]\n";
  return out;
}

}  // namespace comet::cli
