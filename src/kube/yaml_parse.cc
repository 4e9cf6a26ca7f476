// ParseKubeYaml: the documents of a stream by kind — Pods, the pod templates of workloads,
// ConfigMaps, Secrets — with errors and warnings labelled by source and document; see
// yaml_parse.h. LoadKubeFiles is in yaml_load.cc.
#include "kube/yaml_parse.h"

#include <array>
#include <map>

#include <fmt/format.h>

#include "base/strings.h"
#include "kube/yaml_parse_internal.h"
#include "kube/yaml_tree.h"

namespace comet::kube {
namespace {

using yaml::FieldError;
using yaml::MapReader;

enum class Shape { kPod, kTemplate, kJob, kCronJob, kConfigMap, kSecret };

struct KindInfo {
  std::string_view kind;
  Shape shape;
  std::array<std::string_view, 4> versions;  // the current one first; the rest read with a warning
};

constexpr KindInfo kKinds[] = {
    {"Pod", Shape::kPod, {"v1"}},
    {"Deployment",
     Shape::kTemplate,
     {"apps/v1", "apps/v1beta2", "apps/v1beta1", "extensions/v1beta1"}},
    {"ReplicaSet", Shape::kTemplate, {"apps/v1", "apps/v1beta2", "extensions/v1beta1"}},
    {"StatefulSet", Shape::kTemplate, {"apps/v1", "apps/v1beta2", "apps/v1beta1"}},
    {"DaemonSet", Shape::kTemplate, {"apps/v1", "apps/v1beta2", "extensions/v1beta1"}},
    {"ReplicationController", Shape::kTemplate, {"v1"}},
    {"Job", Shape::kJob, {"batch/v1"}},
    {"CronJob", Shape::kCronJob, {"batch/v1", "batch/v1beta1"}},
    {"ConfigMap", Shape::kConfigMap, {"v1"}},
    {"Secret", Shape::kSecret, {"v1"}},
};

const KindInfo* FindKind(std::string_view kind) {
  for (const KindInfo& info : kKinds) {
    if (info.kind == kind) {
      return &info;
    }
  }
  return nullptr;
}

Status CheckApiVersion(MapReader& root, const KindInfo& info, std::string_view api_version) {
  if (api_version == info.versions[0]) {
    return Ok();
  }
  for (std::string_view old : info.versions) {
    if (!old.empty() && old == api_version) {
      root.context()->Warn(
          fmt::format("apiVersion {} is deprecated, read as {}", api_version, info.versions[0]));
      return Ok();
    }
  }
  return Err(FieldError(root.PathOf("apiVersion"),
                        fmt::format("{}: not supported for kind {} (want {})",
                                    yaml::Quoted(api_version), info.kind, info.versions[0])));
}

// Merges labels and annotations of `from` over `into`.
void MergeMeta(const ObjectMeta& from, ObjectMeta* into) {
  for (const auto& [key, value] : from.labels) {
    into->labels[key] = value;
  }
  for (const auto& [key, value] : from.annotations) {
    into->annotations[key] = value;
  }
}

// Warns about the workload-level fields not read, but those that mean nothing for a pod run
// once.
void WarnUnreadSpec(MapReader& spec, Shape shape) {
  switch (shape) {
    case Shape::kJob:
      spec.WarnUnread({"selector", "manualSelector", "completions", "parallelism", "backoffLimit",
                       "activeDeadlineSeconds", "ttlSecondsAfterFinished", "completionMode",
                       "suspend", "podFailurePolicy", "backoffLimitPerIndex", "maxFailedIndexes",
                       "podReplacementPolicy", "successPolicy", "managedBy"});
      return;
    case Shape::kCronJob:
      spec.WarnUnread({"concurrencyPolicy", "suspend", "successfulJobsHistoryLimit",
                       "failedJobsHistoryLimit", "startingDeadlineSeconds", "timeZone"});
      return;
    default:
      spec.WarnUnread({"selector", "strategy", "minReadySeconds", "revisionHistoryLimit",
                       "progressDeadlineSeconds", "paused", "serviceName", "podManagementPolicy",
                       "updateStrategy", "persistentVolumeClaimRetentionPolicy", "ordinals"});
      return;
  }
}

// spec (of a workload) -> its pod template, read into *pod over the workload's metadata.
Status ReadTemplate(MapReader& spec, const KindInfo& info, Pod* pod) {
  if (spec.Find("template") == nullptr) {
    return Err(FieldError(spec.PathOf("template"), "required"));
  }
  ASSIGN_OR_RETURN(MapReader tmpl, spec.Map("template"));
  ASSIGN_OR_RETURN(MapReader tmeta, tmpl.Map("metadata"));
  ObjectMeta template_meta;
  RETURN_IF_ERROR(yaml::ReadObjectMeta(tmeta, true, &template_meta));
  MergeMeta(template_meta, &pod->metadata);
  if (tmpl.Find("spec") == nullptr) {
    return Err(FieldError(tmpl.PathOf("spec"), "required"));
  }
  ASSIGN_OR_RETURN(MapReader tspec, tmpl.Map("spec"));
  RETURN_IF_ERROR(yaml::ReadPodSpec(tspec, &pod->spec));
  tmpl.WarnUnread();
  const bool job = info.shape == Shape::kJob || info.shape == Shape::kCronJob;
  if (job && pod->spec.restart_policy == "Always") {
    return Err(FieldError(tspec.PathOf("restartPolicy"),
                          fmt::format("must be OnFailure or Never for a {} (Always is the "
                                      "default)",
                                      info.kind)));
  }
  if (!job && pod->spec.restart_policy != "Always") {
    return Err(FieldError(
        tspec.PathOf("restartPolicy"),
        fmt::format("\"{}\": must be Always for a {}", pod->spec.restart_policy, info.kind)));
  }
  return Ok();
}

Status ReadWorkload(MapReader& root, const KindInfo& info, Pod* pod) {
  if (root.Find("spec") == nullptr) {
    return Err(FieldError(root.PathOf("spec"), "required"));
  }
  ASSIGN_OR_RETURN(MapReader spec, root.Map("spec"));
  std::optional<int64_t> replicas;
  if (info.shape == Shape::kTemplate) {
    RETURN_IF_ERROR(spec.Read("replicas", &replicas));
    if (replicas && *replicas != 1) {
      spec.context()->Warn(fmt::format("{}: {} replicas asked, comet runs one pod",
                                       spec.PathOf("replicas"), *replicas));
    }
    if (spec.Has("volumeClaimTemplates")) {
      spec.context()->Warn(spec.PathOf("volumeClaimTemplates") +
                           ": persistent volumes are not supported, ignored");
    }
  }
  if (info.shape != Shape::kCronJob) {
    RETURN_IF_ERROR(ReadTemplate(spec, info, pod));
    WarnUnreadSpec(spec, info.shape);
    return Ok();
  }
  std::string schedule;
  RETURN_IF_ERROR(spec.Read("schedule", &schedule));
  if (!schedule.empty()) {
    spec.context()->Warn(fmt::format("{}: {} not followed, the job's pod runs once, now",
                                     spec.PathOf("schedule"), yaml::Quoted(schedule)));
  }
  if (spec.Find("jobTemplate") == nullptr) {
    return Err(FieldError(spec.PathOf("jobTemplate"), "required"));
  }
  ASSIGN_OR_RETURN(MapReader job, spec.Map("jobTemplate"));
  ASSIGN_OR_RETURN(MapReader job_meta, job.Map("metadata"));
  ObjectMeta template_meta;
  RETURN_IF_ERROR(yaml::ReadObjectMeta(job_meta, true, &template_meta));
  MergeMeta(template_meta, &pod->metadata);
  if (job.Find("spec") == nullptr) {
    return Err(FieldError(job.PathOf("spec"), "required"));
  }
  ASSIGN_OR_RETURN(MapReader job_spec, job.Map("spec"));
  RETURN_IF_ERROR(ReadTemplate(job_spec, info, pod));
  WarnUnreadSpec(job_spec, Shape::kJob);
  job.WarnUnread();
  WarnUnreadSpec(spec, Shape::kCronJob);
  return Ok();
}

// One document: *kind and *name are set as soon as they are known, for its label.
Status ReadDocument(yaml::ReadContext* context, const yaml::Document& doc,
                    const std::string& label_prefix, yaml::ParsedDocument* out) {
  if (doc.root->kind != yaml::NodeKind::kMap) {
    std::string where = yaml::Position(*doc.root);
    return Err(
        Error::Invalid(fmt::format("{}{}expected a mapping (a Kubernetes object), got {}", where,
                                   where.empty() ? "" : ": ", yaml::Describe(*doc.root))));
  }
  ASSIGN_OR_RETURN(MapReader root, MapReader::Open(context, doc.root, ""));
  RETURN_IF_ERROR(root.ReadRequired("kind", &out->kind));
  if (const yaml::Node* name = root.Find("metadata"); name != nullptr) {
    // The name for the label, before metadata is read (and checked) for real.
    for (size_t i = 0; name->kind == yaml::NodeKind::kMap && i < name->children.size(); i += 2) {
      if (name->children[i]->text == "name" &&
          name->children[i + 1]->kind == yaml::NodeKind::kScalar) {
        out->name = name->children[i + 1]->text;
      }
    }
  }
  std::string api_version;
  RETURN_IF_ERROR(root.ReadRequired("apiVersion", &api_version));
  const KindInfo* info = FindKind(out->kind);
  if (info == nullptr) {
    context->Warn(fmt::format("kind {} is not supported, skipped", Printable(out->kind, 60)));
    out->skipped = true;
    return Ok();
  }
  RETURN_IF_ERROR(CheckApiVersion(root, *info, api_version));
  switch (info->shape) {
    case Shape::kConfigMap:
      RETURN_IF_ERROR(yaml::ReadConfigMap(root, &out->config_map.emplace()));
      out->name = out->config_map->metadata.name;
      return Ok();
    case Shape::kSecret:
      RETURN_IF_ERROR(yaml::ReadSecret(root, &out->secret.emplace()));
      out->name = out->secret->metadata.name;
      return Ok();
    default:
      break;
  }
  Pod& pod = out->pod.emplace();
  ASSIGN_OR_RETURN(MapReader meta, root.Map("metadata"));
  RETURN_IF_ERROR(yaml::ReadObjectMeta(meta, false, &pod.metadata));
  out->name = pod.metadata.name;
  pod.source = label_prefix + yaml::DocumentLabel(*out);
  if (info->shape == Shape::kPod) {
    if (root.Find("spec") == nullptr) {
      return Err(FieldError(root.PathOf("spec"), "required"));
    }
    ASSIGN_OR_RETURN(MapReader spec, root.Map("spec"));
    RETURN_IF_ERROR(yaml::ReadPodSpec(spec, &pod.spec));
  } else {
    RETURN_IF_ERROR(ReadWorkload(root, *info, &pod));
  }
  root.WarnUnread({"status"});
  return Ok();
}

}  // namespace

namespace yaml {

std::string DocumentLabel(const ParsedDocument& doc) {
  if (doc.kind.empty()) {
    return fmt::format("document {}", doc.number);
  }
  if (doc.name.empty()) {
    return fmt::format("document {} ({})", doc.number, Printable(doc.kind, 60));
  }
  return fmt::format("document {} ({} {})", doc.number, Printable(doc.kind, 60),
                     Printable(doc.name, 253));
}

Status ParseStreamInto(std::string_view text, std::string_view source_name, ObjectIndex* index,
                       Objects* out, std::vector<std::string>* warnings) {
  auto stream = ParseStream(text);
  if (!stream) {
    return Err(std::move(stream).error().AddContext(std::string(source_name)));
  }
  ReadContext::Budget budget;
  const std::string prefix = fmt::format("{}: ", source_name);
  for (const Document& doc : stream->documents()) {
    if (doc.root->kind == NodeKind::kNull) {
      continue;  // an empty document ("---" twice, a file of comments)
    }
    ReadContext context(&budget);
    ParsedDocument parsed;
    parsed.number = doc.number;
    Status read = ReadDocument(&context, doc, prefix, &parsed);
    const std::string label = prefix + DocumentLabel(parsed);
    if (warnings != nullptr) {
      for (std::string& warning : context.TakeWarnings()) {
        warnings->push_back(fmt::format("{}: {}", label, warning));
      }
    }
    if (read) {
      read = index->Add(parsed, label, out);
    }
    if (!read) {
      return Err(std::move(read).error().AddContext(label));
    }
  }
  return Ok();
}

Status ObjectIndex::Add(ParsedDocument& doc, const std::string& label, Objects* out) {
  auto claim = [&](std::string_view what, const ObjectMeta& meta) -> Status {
    const std::string key = fmt::format("{} \"{}/{}\"", what, meta.namespace_, meta.name);
    auto [it, added] = labels_.emplace(key, label);
    if (!added) {
      return Err(Error::Invalid(fmt::format("{} is already defined by {}", key, it->second)));
    }
    return Ok();
  };
  if (doc.pod) {
    RETURN_IF_ERROR(claim("pod", doc.pod->metadata));
    out->pods.push_back(std::move(*doc.pod));
  } else if (doc.config_map) {
    RETURN_IF_ERROR(claim("configmap", doc.config_map->metadata));
    out->config_maps.push_back(std::move(*doc.config_map));
  } else if (doc.secret) {
    RETURN_IF_ERROR(claim("secret", doc.secret->metadata));
    out->secrets.push_back(std::move(*doc.secret));
  }
  return Ok();
}

}  // namespace yaml

Result<Objects> ParseKubeYaml(std::string_view text, std::string_view source_name,
                              std::vector<std::string>* warnings) {
  Objects objects;
  yaml::ObjectIndex index;
  RETURN_IF_ERROR(yaml::ParseStreamInto(text, source_name, &index, &objects, warnings));
  return objects;
}

}  // namespace comet::kube
