// ExpandVars; see expand.h. The rules are those of the kubelet's third_party expansion package
// (Kubernetes' "Define a dependent environment variable" page shows them).
#include "kube/expand.h"

#include <algorithm>

namespace comet::kube {

std::optional<std::string> ExpandVars(std::string_view input,
                                      const std::map<std::string, std::string, std::less<>>& vars,
                                      size_t limit) {
  std::string out;
  out.reserve(std::min(input.size(), limit));
  size_t i = 0;
  while (i < input.size()) {
    if (out.size() > limit) {
      return std::nullopt;
    }
    const char c = input[i];
    if (c != '$' || i + 1 == input.size()) {
      out.push_back(c);
      ++i;
      continue;
    }
    const char next = input[i + 1];
    if (next == '$') {  // "$$": one literal '$'
      out.push_back('$');
      i += 2;
      continue;
    }
    if (next != '(') {  // a '$' that starts no reference
      out.push_back('$');
      out.push_back(next);
      i += 2;
      continue;
    }
    const size_t close = input.find(')', i + 2);
    if (close == std::string_view::npos) {  // unclosed: "$(" kept, the rest scanned on
      out.append("$(");
      i += 2;
      continue;
    }
    const std::string_view name = input.substr(i + 2, close - i - 2);
    auto found = vars.find(name);
    if (found != vars.end()) {
      if (found->second.size() > limit - std::min(limit, out.size())) {
        return std::nullopt;
      }
      out.append(found->second);
    } else {
      out.append(input.substr(i, close - i + 1));  // unknown: kept as written
    }
    i = close + 1;
  }
  if (out.size() > limit) {
    return std::nullopt;
  }
  return out;
}

}  // namespace comet::kube
