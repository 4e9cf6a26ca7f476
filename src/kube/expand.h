// The kubelet's $(VAR) expansion of env values, command and args: "$(NAME)" becomes NAME's value
// when NAME is defined, else stays as written; "$$" is an escaped "$" ("$$(A)" gives "$(A)"); a
// "$" before anything else, or an unclosed "$(", is kept. Thread-safe (pure functions).
#ifndef COMET_KUBE_EXPAND_H_
#define COMET_KUBE_EXPAND_H_

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace comet::kube {

// The longest value an expansion may make: what execve takes per string (MAX_ARG_STRLEN). Each
// value is bounded, so a YAML whose every entry doubles the previous one cannot make `play`
// allocate without end.
inline constexpr size_t kMaxExpandedBytes = 128 << 10;

// nullopt when the result would be longer than `limit`.
[[nodiscard]] std::optional<std::string> ExpandVars(
    std::string_view input, const std::map<std::string, std::string, std::less<>>& vars,
    size_t limit = kMaxExpandedBytes);

}  // namespace comet::kube

#endif  // COMET_KUBE_EXPAND_H_
