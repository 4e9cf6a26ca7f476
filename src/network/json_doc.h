// ParseJsonObject: bounded, depth-checked, non-throwing parsing of one JSON object from text
// that comes from a file or a plugin's output. Thread-safe (pure function).
#ifndef COMET_NETWORK_JSON_DOC_H_
#define COMET_NETWORK_JSON_DOC_H_

#include <string_view>

#include "base/json.h"
#include "base/result.h"

namespace comet::network {

inline constexpr int kMaxJsonDepth = 32;

// `what` names the document in errors ("network config /etc/comet/net.d/10-a.conf").
[[nodiscard]] Result<json::Json> ParseJsonObject(std::string_view text, size_t max_bytes,
                                                 std::string_view what);

}  // namespace comet::network

#endif  // COMET_NETWORK_JSON_DOC_H_
