// ReadProbe and ReadLifecycle: probes (exec, httpGet, tcpSocket; grpc is warned about and
// dropped) and lifecycle hooks (exec, httpGet, tcpSocket, sleep), with the API server's defaults
// (period 10 s, timeout 1 s, thresholds 1 and 3, path "/", scheme HTTP) for unset or zero values.
#include <fmt/format.h>

#include "kube/yaml_parse_internal.h"

namespace comet::kube::yaml {
namespace {

Status ReadHeader(MapReader& reader, HttpHeader* out) {
  RETURN_IF_ERROR(reader.ReadRequired("name", &out->name));
  RETURN_IF_ERROR(reader.Read("value", &out->value));
  reader.WarnUnread();
  return Ok();
}

Status ReadHttpGet(MapReader& reader, HttpGetAction* out) {
  RETURN_IF_ERROR(reader.Read("path", &out->path));
  if (out->path.empty()) {
    out->path = "/";
  }
  RETURN_IF_ERROR(reader.ReadIntOrString("port", &out->port));
  if (out->port.empty()) {
    return Err(FieldError(reader.PathOf("port"), "required"));
  }
  RETURN_IF_ERROR(CheckPortOrName(reader.PathOf("port"), out->port));
  RETURN_IF_ERROR(reader.Read("host", &out->host));
  RETURN_IF_ERROR(reader.Read("scheme", &out->scheme));
  if (out->scheme.empty()) {
    out->scheme = "HTTP";
  }
  RETURN_IF_ERROR(CheckEnum(reader.PathOf("scheme"), out->scheme, {"HTTP", "HTTPS"}));
  RETURN_IF_ERROR(reader.ForEach("httpHeaders", [&](MapReader& item, size_t) {
    return ReadHeader(item, &out->headers.emplace_back());
  }));
  reader.WarnUnread();
  return Ok();
}

Status ReadTcpSocket(MapReader& reader, TcpSocketAction* out) {
  RETURN_IF_ERROR(reader.ReadIntOrString("port", &out->port));
  if (out->port.empty()) {
    return Err(FieldError(reader.PathOf("port"), "required"));
  }
  RETURN_IF_ERROR(CheckPortOrName(reader.PathOf("port"), out->port));
  RETURN_IF_ERROR(reader.Read("host", &out->host));
  reader.WarnUnread();
  return Ok();
}

// The handler members of a probe or hook; `kinds` counts those set (grpc included, which
// *out cannot hold).
Status ReadHandler(MapReader& reader, bool hook, Handler* out, int* kinds) {
  if (reader.Find("exec") != nullptr) {
    ASSIGN_OR_RETURN(MapReader exec, reader.Map("exec"));
    RETURN_IF_ERROR(exec.Read("command", &out->exec.emplace().command));
    exec.WarnUnread();
    if (out->exec->command.empty()) {
      return Err(FieldError(exec.PathOf("command"), "required"));
    }
    ++*kinds;
  }
  if (reader.Find("httpGet") != nullptr) {
    ASSIGN_OR_RETURN(MapReader http, reader.Map("httpGet"));
    RETURN_IF_ERROR(ReadHttpGet(http, &out->http_get.emplace()));
    ++*kinds;
  }
  if (reader.Find("tcpSocket") != nullptr) {
    ASSIGN_OR_RETURN(MapReader tcp, reader.Map("tcpSocket"));
    RETURN_IF_ERROR(ReadTcpSocket(tcp, &out->tcp_socket.emplace()));
    ++*kinds;
  }
  if (hook && reader.Find("sleep") != nullptr) {
    ASSIGN_OR_RETURN(MapReader sleep, reader.Map("sleep"));
    int64_t seconds = -1;
    RETURN_IF_ERROR(sleep.Read("seconds", &seconds));
    sleep.WarnUnread();
    if (seconds < 0) {
      return Err(
          FieldError(sleep.PathOf("seconds"), seconds == -1 ? "required" : "must not be negative"));
    }
    out->sleep_seconds = seconds;
    ++*kinds;
  }
  if (!hook && reader.Has("grpc")) {
    ++*kinds;
  }
  return Ok();
}

Status CheckHandlerCount(const MapReader& reader, int kinds, bool hook) {
  if (kinds == 0) {
    return Err(FieldError(reader.path(), hook ? "must have one of exec, httpGet, tcpSocket or sleep"
                                              : "must have one of exec, httpGet or tcpSocket"));
  }
  if (kinds > 1) {
    return Err(FieldError(reader.path(), "must have only one handler"));
  }
  return Ok();
}

// A probe's count field: unset or 0 is the default; negative values are errors.
Status ReadCount(MapReader& reader, std::string_view key, int32_t default_value, int32_t* out) {
  int32_t value = 0;
  RETURN_IF_ERROR(reader.Read(key, &value));
  if (value < 0) {
    return Err(FieldError(reader.PathOf(key), fmt::format("{}: must not be negative", value)));
  }
  *out = value == 0 ? default_value : value;
  return Ok();
}

}  // namespace

Status ReadProbe(MapReader& reader, bool liveness_or_startup, std::optional<Probe>* out) {
  Probe probe;
  int kinds = 0;
  RETURN_IF_ERROR(ReadHandler(reader, false, &probe.handler, &kinds));
  RETURN_IF_ERROR(CheckHandlerCount(reader, kinds, false));
  RETURN_IF_ERROR(ReadCount(reader, "initialDelaySeconds", 0, &probe.initial_delay_seconds));
  RETURN_IF_ERROR(ReadCount(reader, "timeoutSeconds", 1, &probe.timeout_seconds));
  RETURN_IF_ERROR(ReadCount(reader, "periodSeconds", 10, &probe.period_seconds));
  RETURN_IF_ERROR(ReadCount(reader, "successThreshold", 1, &probe.success_threshold));
  RETURN_IF_ERROR(ReadCount(reader, "failureThreshold", 3, &probe.failure_threshold));
  if (liveness_or_startup && probe.success_threshold != 1) {
    return Err(FieldError(
        reader.PathOf("successThreshold"),
        fmt::format("{}: must be 1 for liveness and startup probes", probe.success_threshold)));
  }
  reader.WarnUnread({"grpc"});
  if (!probe.handler.exec && !probe.handler.http_get && !probe.handler.tcp_socket) {
    reader.context()->Warn(reader.PathOf("grpc") +
                           ": gRPC probes are not supported, probe "
                           "ignored");
    return Ok();
  }
  *out = std::move(probe);
  return Ok();
}

Status ReadLifecycle(MapReader& reader, Lifecycle* out) {
  for (const auto& [key, handler] :
       {std::pair{"postStart", &out->post_start}, std::pair{"preStop", &out->pre_stop}}) {
    if (reader.Find(key) == nullptr) {
      continue;
    }
    ASSIGN_OR_RETURN(MapReader item, reader.Map(key));
    int kinds = 0;
    RETURN_IF_ERROR(ReadHandler(item, true, &handler->emplace(), &kinds));
    RETURN_IF_ERROR(CheckHandlerCount(item, kinds, true));
    item.WarnUnread();
  }
  reader.WarnUnread();
  return Ok();
}

}  // namespace comet::kube::yaml
