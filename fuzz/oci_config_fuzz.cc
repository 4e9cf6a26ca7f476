// libFuzzer target for config.json (and process.json / resources.json): parsing untrusted JSON
// must never crash, and whatever parses must survive validation and print-parse round trips.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "oci/spec_json.h"
#include "oci/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = comet::oci::ParseSpec(text);
  if (spec) {
    (void)comet::oci::Validate(*spec, {});
    (void)comet::oci::Validate(
        *spec, {.rootless = true, .require_process = false, .auto_userns_mapping = true});
    // Printing then parsing must give the same document back.
    std::string json = comet::oci::SpecToJson(*spec);
    auto again = comet::oci::ParseSpec(json);
    if (!again || comet::oci::SpecToJson(*again) != json) {
      __builtin_trap();
    }
  }
  if (auto process = comet::oci::ParseProcess(text)) {
    (void)comet::oci::ValidateProcess(*process, "");
  }
  (void)comet::oci::ParseResources(text);
  return 0;
}
