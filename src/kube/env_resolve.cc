// ResolveEnv, ExpandArgs; see env_resolve.h.
#include "kube/env_resolve.h"

#include <map>
#include <optional>

#include <fmt/format.h>

#include "base/strings.h"
#include "kube/convert_internal.h"
#include "kube/downward_api.h"
#include "kube/expand.h"
#include "kube/validation.h"

namespace comet::kube {
namespace {

using internal::FieldError;
using internal::FindConfigMap;
using internal::FindSecret;
using internal::Indexed;

using VarMap = std::map<std::string, std::string, std::less<>>;

// The entries so far, in first-definition order, and by name for $(VAR) expansion.
class EnvBuilder {
 public:
  void Set(const std::string& name, std::string value) {
    auto [it, inserted] = vars_.insert_or_assign(name, std::move(value));
    if (inserted) {
      order_.push_back(name);
    }
  }
  [[nodiscard]] const VarMap& vars() const { return vars_; }
  [[nodiscard]] std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    out.reserve(order_.size());
    for (const std::string& name : order_) {
      out.push_back(name + "=" + vars_.at(name));
    }
    return out;
  }

 private:
  VarMap vars_;
  std::vector<std::string> order_;
};

// Adds every key of one envFrom source. Keys that are no valid names (by the API server's
// relaxed rule, which any ConfigMap key passes) or whose value holds a NUL byte (execve would cut
// it) are skipped, with one warning listing them.
void AddSource(const std::map<std::string, std::string>& data, const std::string& prefix,
               const std::string& what, const std::string& field, EnvBuilder& env,
               std::vector<std::string>* warnings) {
  std::vector<std::string> skipped;
  for (const auto& [key, value] : data) {
    const std::string name = prefix + key;
    if (validation::EnvVarName(name) || value.find('\0') != std::string::npos) {
      skipped.push_back(Printable(name, 100));
      continue;
    }
    env.Set(name, value);
  }
  if (!skipped.empty()) {
    warnings->push_back(fmt::format("{}: {}: keys skipped, not valid as environment variables: {}",
                                    field, what, Join(skipped, ", ")));
  }
}

Status AddEnvFrom(const EnvContext& context, const EnvFromSource& source, const std::string& field,
                  EnvBuilder& env, std::vector<std::string>* warnings) {
  const std::string& ns = context.meta->namespace_;
  if (source.config_map_ref) {
    const KeySelector& ref = *source.config_map_ref;
    const ConfigMap* map = FindConfigMap(*context.objects, ns, ref.name);
    if (map == nullptr) {
      if (ref.optional) {
        return Ok();
      }
      return Err(FieldError(field + ".configMapRef",
                            fmt::format(R"(configmap "{}" not found in namespace "{}")",
                                        Printable(ref.name, 100), ns)));
    }
    AddSource(map->data, source.prefix, fmt::format("configmap \"{}\"", ref.name), field, env,
              warnings);
    return Ok();
  }
  if (source.secret_ref) {
    const KeySelector& ref = *source.secret_ref;
    const Secret* secret = FindSecret(*context.objects, ns, ref.name);
    if (secret == nullptr) {
      if (ref.optional) {
        return Ok();
      }
      return Err(FieldError(
          field + ".secretRef",
          fmt::format(R"(secret "{}" not found in namespace "{}")", Printable(ref.name, 100), ns)));
    }
    AddSource(secret->data, source.prefix, fmt::format("secret \"{}\"", ref.name), field, env,
              warnings);
    return Ok();
  }
  return Err(FieldError(field, "needs configMapRef or secretRef"));
}

// A configMapKeyRef's or secretKeyRef's value; nullopt when optional and missing.
Result<std::optional<std::string>> KeyRefValue(const std::map<std::string, std::string>* data,
                                               const KeySelector& ref, const char* kind,
                                               const std::string& ns, const std::string& field) {
  if (data == nullptr) {
    if (ref.optional) {
      return std::optional<std::string>();
    }
    return Err(FieldError(field, fmt::format(R"({} "{}" not found in namespace "{}")", kind,
                                             Printable(ref.name, 100), ns)));
  }
  auto it = data->find(ref.key);
  if (it == data->end()) {
    if (ref.optional) {
      return std::optional<std::string>();
    }
    return Err(
        FieldError(field, fmt::format(R"(key "{}" not found in {} "{}")", Printable(ref.key, 100),
                                      kind, Printable(ref.name, 100))));
  }
  return std::optional<std::string>(it->second);
}

// The value of env[i]; nullopt when an optional reference is missing (the entry is skipped).
Result<std::optional<std::string>> EnvValue(const EnvContext& context, const Container& container,
                                            const EnvVar& var, const std::string& field,
                                            const EnvBuilder& env,
                                            std::vector<std::string>* warnings) {
  if (!var.value_from) {
    std::optional<std::string> value = ExpandVars(var.value, env.vars());
    if (!value) {
      return Err(FieldError(field + ".value",
                            fmt::format("expands to more than {} bytes", kMaxExpandedBytes)));
    }
    return value;
  }
  const EnvVarSource& from = *var.value_from;
  const std::string& ns = context.meta->namespace_;
  if (from.field_ref) {
    ASSIGN_OR_RETURN(std::string value, FieldRefValue(*context.meta, *context.spec, *context.node,
                                                      from.field_ref->field_path, field, warnings));
    return std::optional<std::string>(std::move(value));
  }
  if (from.resource_field_ref) {
    ASSIGN_OR_RETURN(std::string value,
                     ResourceFieldRefValue(*context.spec, container, *from.resource_field_ref,
                                           *context.node, field + ".valueFrom.resourceFieldRef"));
    return std::optional<std::string>(std::move(value));
  }
  if (from.config_map_key_ref) {
    const ConfigMap* map = FindConfigMap(*context.objects, ns, from.config_map_key_ref->name);
    return KeyRefValue(map == nullptr ? nullptr : &map->data, *from.config_map_key_ref, "configmap",
                       ns, field + ".valueFrom.configMapKeyRef");
  }
  if (from.secret_key_ref) {
    const Secret* secret = FindSecret(*context.objects, ns, from.secret_key_ref->name);
    return KeyRefValue(secret == nullptr ? nullptr : &secret->data, *from.secret_key_ref, "secret",
                       ns, field + ".valueFrom.secretKeyRef");
  }
  return Err(FieldError(field + ".valueFrom",
                        "needs one of fieldRef, resourceFieldRef, "
                        "configMapKeyRef, secretKeyRef"));
}

}  // namespace

Result<std::vector<std::string>> ResolveEnv(const EnvContext& context, const Container& container,
                                            std::string_view field,
                                            std::vector<std::string>* warnings) {
  EnvBuilder env;
  for (size_t i = 0; i < container.env_from.size(); ++i) {
    RETURN_IF_ERROR(AddEnvFrom(context, container.env_from[i],
                               Indexed(fmt::format("{}.envFrom", field), i), env, warnings));
  }
  for (size_t i = 0; i < container.env.size(); ++i) {
    const EnvVar& var = container.env[i];
    const std::string path = Indexed(fmt::format("{}.env", field), i);
    if (auto invalid = validation::EnvVarName(var.name)) {
      return Err(FieldError(path + ".name", *invalid));
    }
    ASSIGN_OR_RETURN(std::optional<std::string> value,
                     EnvValue(context, container, var, path, env, warnings));
    if (!value) {
      continue;
    }
    if (value->find('\0') != std::string::npos) {
      return Err(FieldError(path, "the value contains a NUL byte"));
    }
    env.Set(var.name, std::move(*value));
  }
  return env.Entries();
}

Result<std::vector<std::string>> ExpandArgs(const std::vector<std::string>& args,
                                            const std::vector<std::string>& env,
                                            const std::string& field) {
  VarMap vars;
  for (const std::string& entry : env) {
    const size_t eq = entry.find('=');
    vars.insert_or_assign(entry.substr(0, eq),
                          eq == std::string::npos ? std::string() : entry.substr(eq + 1));
  }
  std::vector<std::string> out;
  out.reserve(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    std::optional<std::string> arg = ExpandVars(args[i], vars);
    if (!arg) {
      return Err(FieldError(fmt::format("{}[{}]", field, i),
                            fmt::format("expands to more than {} bytes", kMaxExpandedBytes)));
    }
    out.push_back(std::move(*arg));
  }
  return out;
}

}  // namespace comet::kube
