// JSON payloads of the control socket: requests, replies, kExit, kResize, and detach keys.
// Requests come from any process that can reach <pod>/ctl: every field is type-checked and
// bounded here, nothing throws out of this file. Thread-safe (pure functions).
#include <cerrno>

#include <fmt/format.h>

#include "base/json.h"
#include "base/strings.h"
#include "pod/control.h"
#include "pod/manifest_json.h"

namespace comet::pod {
namespace {

using json::Json;

// Bounds for hostile requests (the frame is at most 1 MiB anyway).
constexpr size_t kMaxNameLength = 253;
constexpr size_t kMaxArgs = 4096;

struct OpName {
  ControlOp op;
  const char* name;
};
constexpr OpName kOps[] = {
    {ControlOp::kStop, "stop"},          {ControlOp::kAppAdd, "app-add"},
    {ControlOp::kAppStart, "app-start"}, {ControlOp::kAppStop, "app-stop"},
    {ControlOp::kAppRemove, "app-rm"},   {ControlOp::kExec, "exec"},
    {ControlOp::kAttach, "attach"},
};

Error FieldError(std::string_view field, std::string_view what) {
  return Error::Invalid(fmt::format("control message: {}: {}", field, what));
}

Result<Json> ParseObject(std::string_view text) {
  Json json = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return Err(Error::Invalid("control message: invalid JSON"));
  }
  if (!json.is_object()) {
    return Err(Error::Invalid("control message: expected a JSON object"));
  }
  return json;
}

// Typed optional reads (json::Read): an absent (or null) member leaves `out` unchanged.
template <class T>
Status Read(const Json& obj, std::string_view key, T* out) {
  Status status = json::Read(obj, key, "", out, json::Wording::kNamesType);
  if (!status) {
    return Err(Error::Invalid(fmt::format("control message: {}", status.error().message())));
  }
  return Ok();
}

// A list read, bounded before its items are converted.
Status ReadList(const Json& obj, std::string_view key, std::vector<std::string>* out) {
  const Json* v = json::Member(obj, key);
  if (v != nullptr && v->is_array() && v->size() > kMaxArgs) {
    return Err(FieldError(key, fmt::format("expected an array of at most {} items", kMaxArgs)));
  }
  return Read(obj, key, out);
}

// An app travels in the manifest's own JSON form (manifest_json.h), so `app add` and the pod
// file never disagree about a field.
Result<App> ParseApp(const Json& json) {
  if (!json.is_object()) {
    return Err(FieldError("new_app", "expected an object"));
  }
  App app;
  RETURN_IF_ERROR(internal::ParseAppValue(internal::ObjectReader(json, "new_app"), &app));
  return app;
}

Json ExecJson(const ExecRequest& e) {
  return {{"args", e.args}, {"env", e.env},  {"cwd", e.cwd},
          {"user", e.user}, {"tty", e.tty},  {"interactive", e.interactive},
          {"rows", e.rows}, {"cols", e.cols}};
}

Status ParseExec(const Json& json, ExecRequest* e) {
  if (!json.is_object()) {
    return Err(FieldError("exec", "expected an object"));
  }
  RETURN_IF_ERROR(ReadList(json, "args", &e->args));
  RETURN_IF_ERROR(ReadList(json, "env", &e->env));
  RETURN_IF_ERROR(Read(json, "cwd", &e->cwd));
  RETURN_IF_ERROR(Read(json, "user", &e->user));
  RETURN_IF_ERROR(Read(json, "tty", &e->tty));
  RETURN_IF_ERROR(Read(json, "interactive", &e->interactive));
  RETURN_IF_ERROR(Read(json, "rows", &e->rows));
  RETURN_IF_ERROR(Read(json, "cols", &e->cols));
  if (e->args.empty()) {
    return Err(FieldError("exec.args", "must not be empty"));
  }
  return Ok();
}

Status ValidateAppName(ControlOp op, const std::string& app) {
  if (op == ControlOp::kStop || op == ControlOp::kAppAdd) {
    return Ok();
  }
  if (app.empty() || app.size() > kMaxNameLength) {
    return Err(FieldError("app", "must be a name of 1 to 253 characters"));
  }
  return Ok();
}

}  // namespace

std::string EncodeRequest(const ControlRequest& request) {
  Json json;
  for (const OpName& op : kOps) {
    if (op.op == request.op) {
      json["op"] = op.name;
    }
  }
  if (!request.app.empty()) {
    json["app"] = request.app;
  }
  if (request.grace.count() >= 0) {
    json["grace_ms"] = request.grace.count();
  }
  if (request.new_app) {
    json["new_app"] = Json::parse(internal::AppToJsonValue(*request.new_app).dump());
  }
  if (request.op == ControlOp::kExec) {
    json["exec"] = ExecJson(request.exec);
  }
  if (request.attach_stdin) {
    json["attach_stdin"] = true;
  }
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<ControlRequest> DecodeRequest(std::string_view text) {
  ASSIGN_OR_RETURN(Json json, ParseObject(text));
  ControlRequest request;
  std::string op;
  RETURN_IF_ERROR(Read(json, "op", &op));
  bool known = false;
  for (const OpName& entry : kOps) {
    if (op == entry.name) {
      request.op = entry.op;
      known = true;
    }
  }
  if (!known) {
    return Err(FieldError("op", fmt::format("unknown operation \"{}\"", op)));
  }
  RETURN_IF_ERROR(Read(json, "app", &request.app));
  RETURN_IF_ERROR(ValidateAppName(request.op, request.app));
  int64_t grace_ms = -1;
  RETURN_IF_ERROR(Read(json, "grace_ms", &grace_ms));
  request.grace = std::chrono::milliseconds(grace_ms < 0 ? -1 : grace_ms);
  if (const Json* app = json::Member(json, "new_app")) {
    ASSIGN_OR_RETURN(App parsed, ParseApp(*app));
    request.new_app = std::move(parsed);
  }
  if (request.op == ControlOp::kAppAdd && !request.new_app) {
    return Err(FieldError("new_app", "missing"));
  }
  if (request.op == ControlOp::kExec) {
    const Json* exec = json::Member(json, "exec");
    if (exec == nullptr) {
      return Err(FieldError("exec", "missing"));
    }
    RETURN_IF_ERROR(ParseExec(*exec, &request.exec));
  }
  RETURN_IF_ERROR(Read(json, "attach_stdin", &request.attach_stdin));
  return request;
}

std::string EncodeReply(const ControlReply& reply) {
  Json json = {{"ok", reply.ok}};
  if (!reply.ok) {
    json["error"] = reply.error;
    json["code"] = reply.code;
  }
  if (reply.pid != 0) {
    json["pid"] = reply.pid;
  }
  if (reply.tty) {
    json["tty"] = true;
  }
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<ControlReply> DecodeReply(std::string_view text) {
  ASSIGN_OR_RETURN(Json json, ParseObject(text));
  ControlReply reply;
  RETURN_IF_ERROR(Read(json, "ok", &reply.ok));
  RETURN_IF_ERROR(Read(json, "error", &reply.error));
  RETURN_IF_ERROR(Read(json, "code", &reply.code));
  RETURN_IF_ERROR(Read(json, "pid", &reply.pid));
  RETURN_IF_ERROR(Read(json, "tty", &reply.tty));
  if (!reply.ok && reply.error.empty()) {
    reply.error = "the supervisor refused the request";
  }
  return reply;
}

std::string EncodeExit(int exit_code) {
  return Json{{"exit_code", exit_code}}.dump();
}

Result<int> DecodeExit(std::string_view text) {
  ASSIGN_OR_RETURN(Json json, ParseObject(text));
  int code = -1;
  RETURN_IF_ERROR(Read(json, "exit_code", &code));
  if (code < 0 || code > 255) {
    return Err(FieldError("exit_code", "missing or out of range"));
  }
  return code;
}

std::string EncodeResize(WindowSize size) {
  return fmt::format("{} {}", size.rows, size.cols);
}

Result<WindowSize> DecodeResize(std::string_view payload) {
  size_t space = payload.find(' ');
  if (space == std::string_view::npos) {
    return Err(Error::Invalid("resize frame: expected \"<rows> <cols>\""));
  }
  auto rows = ParseUint(payload.substr(0, space));
  auto cols = ParseUint(payload.substr(space + 1));
  if (!rows || !cols || *rows > 0xffff || *cols > 0xffff) {
    return Err(Error::Invalid("resize frame: expected \"<rows> <cols>\""));
  }
  return WindowSize{static_cast<uint16_t>(*rows), static_cast<uint16_t>(*cols)};
}

// docker's syntax: a comma list of single characters or ctrl-<c> where <c> is a letter or one
// of @ [ \ ] ^ _ (control codes 0 to 31).
Result<std::string> ParseDetachKeys(std::string_view text) {
  std::string keys;
  if (text.empty()) {
    return keys;
  }
  for (const std::string& part : Split(text, ',')) {
    if (part.size() == 1) {
      keys.push_back(part[0]);
      continue;
    }
    if (part.size() == 6 && StartsWith(part, "ctrl-")) {
      char c = part[5];
      if (c >= 'a' && c <= 'z') {
        keys.push_back(static_cast<char>(c - 'a' + 1));
        continue;
      }
      if (c >= 'A' && c <= 'Z') {
        keys.push_back(static_cast<char>(c - 'A' + 1));
        continue;
      }
      if (c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' || c == '_') {
        keys.push_back(static_cast<char>(c - '@'));
        continue;
      }
    }
    return Err(Error::Invalid(fmt::format("detach keys: invalid key \"{}\"", part)));
  }
  return keys;
}

}  // namespace comet::pod
