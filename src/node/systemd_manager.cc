// SystemdManager over sd-bus: method calls with sd_bus_call_method, jobs awaited through the
// manager's JobRemoved signal, unit changes through PropertiesChanged of the unit objects.
#include "node/systemd_manager.h"

#include <poll.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <systemd/sd-bus.h>

#include "base/strings.h"

namespace comet::node {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kDestination = "org.freedesktop.systemd1";
constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
constexpr const char* kManagerInterface = "org.freedesktop.systemd1.Manager";
constexpr const char* kUnitInterface = "org.freedesktop.systemd1.Unit";
constexpr const char* kServiceInterface = "org.freedesktop.systemd1.Service";
constexpr const char* kUnitPathPrefix = "/org/freedesktop/systemd1/unit";
// A daemon-reload re-reads every unit file: give it longer than D-Bus's default 25 s.
constexpr uint64_t kReloadTimeoutUsec = 90ULL * 1000 * 1000;

struct MessageUnref {
  void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
using MessagePtr = std::unique_ptr<sd_bus_message, MessageUnref>;

// An sd_bus_error that frees itself.
class BusError {
 public:
  BusError() = default;
  BusError(const BusError&) = delete;
  BusError& operator=(const BusError&) = delete;
  BusError(BusError&&) = delete;
  BusError& operator=(BusError&&) = delete;
  ~BusError() { sd_bus_error_free(&error_); }
  sd_bus_error* get() { return &error_; }
  [[nodiscard]] const sd_bus_error* get() const { return &error_; }
  [[nodiscard]] bool is_set() const { return sd_bus_error_is_set(&error_) != 0; }
  [[nodiscard]] const char* name() const { return error_.name; }
  [[nodiscard]] const char* message() const {
    return error_.message != nullptr ? error_.message : "";
  }

 private:
  sd_bus_error error_{};  // SD_BUS_ERROR_NULL, without its C99 compound literal
};

// errno for systemd's own D-Bus errors (libsystemd maps only the org.freedesktop.DBus ones).
int SystemdErrno(std::string_view name, int fallback) {
  if (name == "org.freedesktop.systemd1.NoSuchUnit" ||
      name == "org.freedesktop.systemd1.NoSuchJob") {
    return ENOENT;
  }
  if (name == "org.freedesktop.systemd1.UnitMasked") {
    return ERFKILL;
  }
  if (name == "org.freedesktop.systemd1.JobTypeNotApplicable" ||
      name == "org.freedesktop.systemd1.OnlyByDependency") {
    return EINVAL;
  }
  return fallback;
}

// "<what>: <D-Bus error name>: <its message>", or the errno of a local failure.
Error CallError(std::string_view what, int r, const BusError& error) {
  if (error.is_set()) {
    int code = SystemdErrno(error.name(), sd_bus_error_get_errno(error.get()));
    return {code, fmt::format("{}: {}: {}", what, error.name(), error.message())};
  }
  return Error::FromCode(-r, what);
}

// Reads an a{sv} of properties, handing each to `read` (which reads the variant and returns
// true, or returns false to have it skipped).
using PropertyReader = std::function<Result<bool>(std::string_view name, sd_bus_message* m)>;

Status ReadProperties(sd_bus_message* m, const PropertyReader& read) {
  int r = sd_bus_message_enter_container(m, 'a', "{sv}");
  if (r < 0) {
    return Err(Error::FromCode(-r, "reading properties"));
  }
  while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    const char* name = nullptr;
    if ((r = sd_bus_message_read(m, "s", &name)) < 0) {
      return Err(Error::FromCode(-r, "reading a property name"));
    }
    ASSIGN_OR_RETURN(bool consumed, read(name, m));
    if (!consumed && (r = sd_bus_message_skip(m, "v")) < 0) {
      return Err(Error::FromCode(-r, "skipping property", name));
    }
    if ((r = sd_bus_message_exit_container(m)) < 0) {
      return Err(Error::FromCode(-r, "reading property", name));
    }
  }
  if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0) {
    return Err(Error::FromCode(-r, "reading properties"));
  }
  return Ok();
}

// Reads a variant holding one basic value of D-Bus type `type` ("s", "u", "i", "t").
template <class T>
Result<bool> ReadVariant(sd_bus_message* m, const char* type, T* out) {
  int r = sd_bus_message_read(m, "v", type, out);
  if (r < 0) {
    return Err(Error::FromCode(-r, "reading a property of type", type));
  }
  return true;
}

Result<bool> ReadStringVariant(sd_bus_message* m, std::string* out) {
  const char* s = nullptr;
  ASSIGN_OR_RETURN(bool ok, ReadVariant(m, "s", &s));
  *out = s != nullptr ? s : "";
  return ok;
}

// InvocationID: 16 bytes (ay), printed as systemd prints it (32 lower-case hex digits).
Result<bool> ReadIdVariant(sd_bus_message* m, std::string* out) {
  int r = sd_bus_message_enter_container(m, 'v', "ay");
  const void* data = nullptr;
  size_t size = 0;
  if (r < 0 || (r = sd_bus_message_read_array(m, 'y', &data, &size)) < 0 ||
      (r = sd_bus_message_exit_container(m)) < 0) {
    return Err(Error::FromCode(-r, "reading InvocationID"));
  }
  out->clear();
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) {
    *out += fmt::format("{:02x}", bytes[i]);
  }
  return true;
}

// A string sd-bus allocated (with malloc), copied and freed.
std::string TakeString(char* text) {
  std::string out(text);
  free(text);  // NOLINT(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory): sd-bus's
  return out;
}

std::chrono::system_clock::time_point FromUsec(uint64_t usec) {
  return std::chrono::system_clock::time_point(std::chrono::microseconds(usec));
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// org.freedesktop.DBus.Properties.GetAll of `interface` on the object at `path`.
Status GetAll(sd_bus* bus, const char* path, const char* interface, const PropertyReader& read) {
  BusError error;
  sd_bus_message* raw = nullptr;
  int r = sd_bus_call_method(bus, kDestination, path, "org.freedesktop.DBus.Properties", "GetAll",
                             error.get(), &raw, "s", interface);
  if (r < 0) {
    return Err(CallError(fmt::format("GetAll {}", interface), r, error));
  }
  MessagePtr reply(raw);
  return ReadProperties(reply.get(), read);
}

// The properties of org.freedesktop.systemd1.Unit that UnitState has.
Result<bool> ReadUnitProperty(std::string_view property, sd_bus_message* m, UnitState& state) {
  if (property == "LoadState") {
    return ReadStringVariant(m, &state.load_state);
  }
  if (property == "ActiveState") {
    return ReadStringVariant(m, &state.active_state);
  }
  if (property == "SubState") {
    return ReadStringVariant(m, &state.sub_state);
  }
  if (property == "InvocationID") {
    return ReadIdVariant(m, &state.invocation_id);
  }
  bool active = property == "ActiveEnterTimestamp";
  if (active || property == "InactiveEnterTimestamp") {
    uint64_t usec = 0;  // CLOCK_REALTIME, 0 when never
    ASSIGN_OR_RETURN(bool read, ReadVariant(m, "t", &usec));
    (active ? state.active_enter : state.inactive_enter) = FromUsec(usec);
    return read;
  }
  return false;
}

// The properties of org.freedesktop.systemd1.Service that UnitState has.
Result<bool> ReadServiceProperty(std::string_view property, sd_bus_message* m, UnitState& state) {
  if (property == "MainPID") {
    return ReadVariant(m, "u", &state.main_pid);
  }
  if (property == "ExecMainCode") {
    return ReadVariant(m, "i", &state.exec_main_code);
  }
  if (property == "ExecMainStatus") {
    return ReadVariant(m, "i", &state.exec_main_status);
  }
  if (property == "Result") {
    return ReadStringVariant(m, &state.result);
  }
  if (property == "NRestarts") {
    return ReadVariant(m, "u", &state.n_restarts);
  }
  return false;
}

}  // namespace

// The connection and what its signal callbacks write; on the heap, so that the callbacks'
// userdata pointer stays valid when the SystemdManager moves.
struct SystemdManager::Connection {
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&&) = delete;
  Connection& operator=(Connection&&) = delete;
  ~Connection() {
    sd_bus_slot_unref(changed_slot);
    sd_bus_slot_unref(job_slot);
    sd_bus_flush_close_unref(bus);
  }

  sd_bus* bus = nullptr;
  sd_bus_slot* job_slot = nullptr;
  sd_bus_slot* changed_slot = nullptr;
  // The job RunJob waits for, and its result once JobRemoved names it. Signals for other jobs
  // (every client's jobs are broadcast) are dropped.
  std::string awaited_job;
  std::optional<std::string> job_result;
  UnitChanged on_unit_changed;

  // JobRemoved(u id, o job, s unit, s result).
  static int OnJobRemoved(sd_bus_message* m, void* userdata, sd_bus_error* /*error*/) {
    auto* self = static_cast<Connection*>(userdata);
    uint32_t id = 0;
    const char* job = nullptr;
    const char* unit = nullptr;
    const char* result = nullptr;
    if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0) {
      return 0;  // a malformed signal: nothing to learn from it
    }
    if (!self->awaited_job.empty() && self->awaited_job == job) {
      self->job_result = result;
    }
    return 0;
  }

  // PropertiesChanged(s interface, a{sv} changed, as invalidated) of a unit object.
  static int OnPropertiesChanged(sd_bus_message* m, void* userdata, sd_bus_error* /*error*/) {
    auto* self = static_cast<Connection*>(userdata);
    const char* path = sd_bus_message_get_path(m);
    char* decoded = nullptr;
    if (path == nullptr || sd_bus_path_decode(path, kUnitPathPrefix, &decoded) <= 0) {
      return 0;
    }
    std::string name = TakeString(decoded);
    if (self->on_unit_changed) {
      self->on_unit_changed(name);
    }
    return 0;
  }
};

SystemdManager::SystemdManager(std::unique_ptr<Connection> connection)
    : connection_(std::move(connection)) {}
SystemdManager::SystemdManager(SystemdManager&& other) noexcept = default;
SystemdManager& SystemdManager::operator=(SystemdManager&& other) noexcept = default;
SystemdManager::~SystemdManager() = default;

Result<SystemdManager> SystemdManager::Connect(std::string_view address) {
  auto connection = std::make_unique<Connection>();
  std::string where = address.empty() ? "the system bus" : std::string(address);
  int r = 0;
  if (address.empty()) {
    r = sd_bus_open_system(&connection->bus);
  } else {
    std::string addr(address);
    if ((r = sd_bus_new(&connection->bus)) >= 0 &&
        (r = sd_bus_set_address(connection->bus, addr.c_str())) >= 0 &&
        (r = sd_bus_set_bus_client(connection->bus, 1)) >= 0) {
      r = sd_bus_start(connection->bus);
    }
  }
  if (r < 0) {
    return Err(Error::FromCode(-r, "connecting to systemd on", where));
  }
  // The match first, then Subscribe: no JobRemoved can be missed between the two.
  r = sd_bus_match_signal(connection->bus, &connection->job_slot, kDestination, kManagerPath,
                          kManagerInterface, "JobRemoved", &Connection::OnJobRemoved,
                          connection.get());
  if (r < 0) {
    return Err(Error::FromCode(-r, "adding a match for JobRemoved on", where));
  }
  BusError error;
  r = sd_bus_call_method(connection->bus, kDestination, kManagerPath, kManagerInterface,
                         "Subscribe", error.get(), nullptr, "");
  if (r < 0) {
    return Err(CallError(fmt::format("subscribing to systemd on {}", where), r, error));
  }
  return SystemdManager(std::move(connection));
}

Status SystemdManager::Reload() {
  sd_bus_message* raw = nullptr;
  int r = sd_bus_message_new_method_call(connection_->bus, &raw, kDestination, kManagerPath,
                                         kManagerInterface, "Reload");
  if (r < 0) {
    return Err(Error::FromCode(-r, "daemon-reload"));
  }
  MessagePtr call(raw);
  BusError error;
  // systemd answers once the reload is complete.
  r = sd_bus_call(connection_->bus, call.get(), kReloadTimeoutUsec, error.get(), nullptr);
  if (r < 0) {
    return Err(CallError("daemon-reload", r, error));
  }
  return Ok();
}

Status SystemdManager::StartUnit(std::string_view name, std::string_view mode) {
  return RunJob("StartUnit", name, mode);
}

Status SystemdManager::StopUnit(std::string_view name, std::string_view mode) {
  return RunJob("StopUnit", name, mode);
}

Status SystemdManager::RestartUnit(std::string_view name, std::string_view mode) {
  return RunJob("RestartUnit", name, mode);
}

Status SystemdManager::RunJob(const char* method, std::string_view name, std::string_view mode) {
  std::string unit(name);
  std::string job_mode(mode);
  std::string what = fmt::format("{} {}", method, unit);
  BusError error;
  sd_bus_message* raw = nullptr;
  int r = sd_bus_call_method(connection_->bus, kDestination, kManagerPath, kManagerInterface,
                             method, error.get(), &raw, "ss", unit.c_str(), job_mode.c_str());
  if (r < 0) {
    return Err(CallError(what, r, error));
  }
  MessagePtr reply(raw);
  const char* job = nullptr;
  if ((r = sd_bus_message_read(reply.get(), "o", &job)) < 0) {
    return Err(Error::FromCode(-r, "reading the job of", what));
  }
  // JobRemoved for this job may be queued already (read while waiting for the reply): it is
  // dispatched, and recognized, by the loop below.
  connection_->awaited_job = job;
  connection_->job_result.reset();
  Clock::time_point deadline = Clock::now() + job_timeout_;
  Status st = Ok();
  while (!connection_->job_result) {
    r = sd_bus_process(connection_->bus, nullptr);
    if (r > 0) {
      continue;
    }
    if (r < 0) {
      st = Err(Error::FromCode(-r, "waiting for the job of", what));
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      st = Err(Error(
          ETIMEDOUT,
          fmt::format("{}: job {} still running after {} s", what, connection_->awaited_job,
                      std::chrono::duration_cast<std::chrono::seconds>(job_timeout_).count())));
      break;
    }
    if ((r = sd_bus_wait(connection_->bus, static_cast<uint64_t>(left.count()))) < 0) {
      st = Err(Error::FromCode(-r, "waiting for the job of", what));
      break;
    }
  }
  std::optional<std::string> result = std::move(connection_->job_result);
  connection_->awaited_job.clear();
  connection_->job_result.reset();
  RETURN_IF_ERROR(st);
  if (*result == "done") {
    return Ok();
  }
  int code = EIO;
  if (*result == "canceled") {
    code = ECANCELED;
  } else if (*result == "timeout") {
    code = ETIMEDOUT;
  }
  return Err(Error(code, fmt::format("{}: job ended with result '{}'", what, *result)));
}

Status SystemdManager::KillUnit(std::string_view name, std::string_view who, int signal) {
  std::string unit(name);
  std::string whom(who);
  BusError error;
  int r = sd_bus_call_method(connection_->bus, kDestination, kManagerPath, kManagerInterface,
                             "KillUnit", error.get(), nullptr, "ssi", unit.c_str(), whom.c_str(),
                             signal);
  if (r < 0) {
    return Err(CallError(fmt::format("KillUnit {} {} {}", unit, whom, signal), r, error));
  }
  return Ok();
}

Status SystemdManager::ResetFailedUnit(std::string_view name) {
  std::string unit(name);
  BusError error;
  int r = sd_bus_call_method(connection_->bus, kDestination, kManagerPath, kManagerInterface,
                             "ResetFailedUnit", error.get(), nullptr, "s", unit.c_str());
  if (r < 0) {
    return Err(CallError("ResetFailedUnit " + unit, r, error));
  }
  return Ok();
}

Result<UnitState> SystemdManager::GetUnitState(std::string_view name) {
  UnitState state;
  state.name = std::string(name);
  std::string what = "getting the state of " + state.name;
  BusError error;
  sd_bus_message* raw = nullptr;
  int r = sd_bus_call_method(connection_->bus, kDestination, kManagerPath, kManagerInterface,
                             "LoadUnit", error.get(), &raw, "s", state.name.c_str());
  if (r < 0) {
    return Err(CallError(what, r, error));
  }
  MessagePtr loaded(raw);
  const char* path = nullptr;
  if ((r = sd_bus_message_read(loaded.get(), "o", &path)) < 0) {
    return Err(Error::FromCode(-r, what));
  }
  RETURN_IF_ERROR_CTX(GetAll(connection_->bus, path, kUnitInterface,
                             [&](std::string_view property, sd_bus_message* m) {
                               return ReadUnitProperty(property, m, state);
                             }),
                      what);
  if (EndsWith(state.name, ".service")) {
    RETURN_IF_ERROR_CTX(GetAll(connection_->bus, path, kServiceInterface,
                               [&](std::string_view property, sd_bus_message* m) {
                                 return ReadServiceProperty(property, m, state);
                               }),
                        what);
  }
  return state;
}

Result<std::vector<std::string>> SystemdManager::ListUnits(std::string_view pattern) {
  std::string what = fmt::format("listing units '{}'", pattern);
  sd_bus_message* raw = nullptr;
  int r = sd_bus_message_new_method_call(connection_->bus, &raw, kDestination, kManagerPath,
                                         kManagerInterface, "ListUnitsByPatterns");
  if (r < 0) {
    return Err(Error::FromCode(-r, what));
  }
  MessagePtr call(raw);
  std::string glob(pattern);
  char* no_states[] = {nullptr};
  char* patterns[] = {glob.data(), nullptr};
  if ((r = sd_bus_message_append_strv(call.get(), no_states)) < 0 ||
      (r = sd_bus_message_append_strv(call.get(), patterns)) < 0) {
    return Err(Error::FromCode(-r, what));
  }
  BusError error;
  raw = nullptr;
  r = sd_bus_call(connection_->bus, call.get(), 0, error.get(), &raw);
  if (r < 0) {
    return Err(CallError(what, r, error));
  }
  MessagePtr reply(raw);
  // a(ssssssouso): name, description, load, active and sub state, followed unit, object path,
  // job id, job type, job path.
  if ((r = sd_bus_message_enter_container(reply.get(), 'a', "(ssssssouso)")) < 0) {
    return Err(Error::FromCode(-r, what));
  }
  std::vector<std::string> names;
  for (;;) {
    const char* unit = nullptr;
    const char* ignored_s = nullptr;
    uint32_t ignored_u = 0;
    r = sd_bus_message_read(reply.get(), "(ssssssouso)", &unit, &ignored_s, &ignored_s, &ignored_s,
                            &ignored_s, &ignored_s, &ignored_s, &ignored_u, &ignored_s, &ignored_s);
    if (r < 0) {
      return Err(Error::FromCode(-r, what));
    }
    if (r == 0) {
      break;
    }
    names.emplace_back(unit);
  }
  return names;
}

Status SystemdManager::Subscribe(UnitChanged on_unit_changed) {
  connection_->on_unit_changed = std::move(on_unit_changed);
  if (connection_->changed_slot != nullptr) {
    return Ok();
  }
  // Only the Unit interface's signal: ActiveState and SubState are there, and every change of
  // a service's main process also changes its unit's state (one call per change, not two).
  std::string match = fmt::format(
      "type='signal',sender='{}',interface='org.freedesktop.DBus.Properties',"
      "member='PropertiesChanged',path_namespace='{}',arg0='{}'",
      kDestination, kUnitPathPrefix, kUnitInterface);
  int r = sd_bus_add_match(connection_->bus, &connection_->changed_slot, match.c_str(),
                           &Connection::OnPropertiesChanged, connection_.get());
  if (r < 0) {
    return Err(Error::FromCode(-r, "adding a match for unit changes"));
  }
  return Ok();
}

int SystemdManager::fd() const {
  return sd_bus_get_fd(connection_->bus);
}

short SystemdManager::events() const {
  int events = sd_bus_get_events(connection_->bus);
  return static_cast<short>(events < 0 ? POLLIN : events);
}

std::chrono::milliseconds SystemdManager::timeout() const {
  uint64_t until_usec = 0;
  if (sd_bus_get_timeout(connection_->bus, &until_usec) < 0 || until_usec == UINT64_MAX) {
    return std::chrono::milliseconds(-1);
  }
  // An absolute CLOCK_MONOTONIC time (steady_clock on Linux); rounded up, so the poll does not
  // wake just before it.
  auto now = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch());
  auto left = std::chrono::microseconds(until_usec) - now;
  if (left.count() <= 0) {
    return std::chrono::milliseconds(0);
  }
  return std::chrono::ceil<std::chrono::milliseconds>(left);
}

Status SystemdManager::Process() {
  int r = 0;
  while ((r = sd_bus_process(connection_->bus, nullptr)) > 0) {
  }
  if (r < 0) {
    return Err(Error::FromCode(-r, "processing messages from systemd"));
  }
  return Ok();
}

Status SystemdManager::Wait(std::chrono::milliseconds timeout) {
  auto usec = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  int r = sd_bus_wait(connection_->bus, usec < 0 ? UINT64_MAX : static_cast<uint64_t>(usec));
  if (r < 0) {
    return Err(Error::FromCode(-r, "waiting for messages from systemd"));
  }
  return Ok();
}

}  // namespace comet::node
