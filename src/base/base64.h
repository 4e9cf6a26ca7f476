// Base64 (RFC 4648 §4, the standard alphabet with '=' padding), as Go's
// encoding/base64.StdEncoding reads it: Kubernetes Secret data and ConfigMap binaryData.
// Thread-safe (pure functions).
#ifndef COMET_BASE_BASE64_H_
#define COMET_BASE_BASE64_H_

#include <string>
#include <string_view>

#include "base/result.h"

namespace comet {

[[nodiscard]] std::string Base64Encode(std::string_view data);

// Strict: the length (after dropping '\r' and '\n', which Go ignores too) is a multiple of 4,
// padding only at the end, and the bits padding leaves over are zero (RFC 4648 §3.5), so that
// every text decodes to one value. Errors say what is wrong and where ("byte 5: invalid
// character '*'"), never quoting the data (it may be a secret).
[[nodiscard]] Result<std::string> Base64Decode(std::string_view text);

}  // namespace comet

#endif  // COMET_BASE_BASE64_H_
