// Pieces shared by the oci JSON readers and writers (spec_parse.cc, spec_write.cc,
// resources_json.cc). Internal to the oci layer. Thread-safe.
#ifndef COMET_OCI_JSON_INTERNAL_H_
#define COMET_OCI_JSON_INTERNAL_H_

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "oci/json_read.h"
#include "oci/spec.h"

namespace comet::oci::internal {

// Output keeps the field order of the spec (and of runc), so it uses the insertion-ordered type.
using OrderedJson = nlohmann::ordered_json;

// Pretty (2-space) text; never throws: invalid UTF-8 is replaced by U+FFFD.
std::string Dump(const OrderedJson& value);

[[nodiscard]] Status ParseProcessObject(const Json& obj, std::string_view path, Process* out);
[[nodiscard]] Status ParseResourcesObject(const Json& obj, std::string_view path, Resources* out);
[[nodiscard]] Status ParseIdMapping(const Json& obj, std::string_view path, IdMapping* out);

OrderedJson ProcessToJsonValue(const Process& process);
OrderedJson ResourcesToJsonValue(const Resources& resources);

}  // namespace comet::oci::internal

#endif  // COMET_OCI_JSON_INTERNAL_H_
