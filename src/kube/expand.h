// The kubelet's $(VAR) expansion of env values, command and args: "$(NAME)" becomes NAME's value
// when NAME is defined, else stays as written; "$$" is an escaped "$" ("$$(A)" gives "$(A)"); a
// "$" before anything else, or an unclosed "$(", is kept. Thread-safe (pure functions).
#ifndef COMET_KUBE_EXPAND_H_
#define COMET_KUBE_EXPAND_H_

#include <map>
#include <string>
#include <string_view>

namespace comet::kube {

[[nodiscard]] std::string ExpandVars(std::string_view input,
                                     const std::map<std::string, std::string, std::less<>>& vars);

}  // namespace comet::kube

#endif  // COMET_KUBE_EXPAND_H_
