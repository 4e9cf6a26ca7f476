// libFuzzer target for image references typed by users or found in archives and annotations:
// parsing must never crash, and a parsed reference's canonical text must parse back to it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "image/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)comet::image::IsLoopbackRegistry(text);
  auto ref = comet::image::ParseReference(text);
  if (ref) {
    auto again = comet::image::ParseReference(ref->ToString());
    if (!again || !(*again == *ref) || again->ToString() != ref->ToString()) {
      __builtin_trap();
    }
    (void)comet::image::IsLoopbackRegistry(ref->registry);
  }
  return 0;
}
