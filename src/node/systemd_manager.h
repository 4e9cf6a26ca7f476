// SystemdManager: a client of systemd's manager (org.freedesktop.systemd1, systemd's
// org.freedesktop.systemd1(5)) over D-Bus with sd-bus: daemon-reload, start/stop/restart of
// units waiting for their jobs, kill, reset-failed, unit state, unit listing, and a subscription
// to units' property changes so the node agent sees `systemctl stop` by someone else without
// polling. One connection; not thread-safe (use it from one thread, the agent's loop).
#ifndef COMET_NODE_SYSTEMD_MANAGER_H_
#define COMET_NODE_SYSTEMD_MANAGER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace comet::node {

// What systemd says of one unit (properties of org.freedesktop.systemd1.Unit and, for a
// .service, org.freedesktop.systemd1.Service).
struct UnitState {
  std::string name;
  std::string load_state;    // "loaded", "not-found" (no such unit: not an error), "masked"...
  std::string active_state;  // "active", "inactive", "failed", "activating", "deactivating"...
  std::string sub_state;     // "running", "dead", "exited", "failed", "auto-restart"...
  uint32_t main_pid = 0;     // in systemd's pid namespace; 0 when there is none
  // How the last main process ended, as waitid(2)'s si_code: 1 CLD_EXITED (exec_main_status is
  // the exit status), 2 CLD_KILLED or 3 CLD_DUMPED (the signal); 0 while it runs or never ran.
  int32_t exec_main_code = 0;
  int32_t exec_main_status = 0;
  // Why the service last stopped: "success", "exit-code", "signal", "core-dump", "timeout"...
  std::string result;
  uint32_t n_restarts = 0;    // restarts done by systemd itself (Restart=)
  std::string invocation_id;  // 32 hex digits, new for each activation; "" when never started
  // When it last entered "active" and "inactive"/"failed"; the epoch when never.
  std::chrono::system_clock::time_point active_enter;
  std::chrono::system_clock::time_point inactive_enter;
};

class SystemdManager {
 public:
  // Called with a unit's name when one of its properties changed (ActiveState, SubState...).
  using UnitChanged = std::function<void(const std::string& unit)>;

  // Connects to systemd's D-Bus API: an empty `address` is the system bus
  // ($DBUS_SYSTEM_BUS_ADDRESS or /run/dbus/system_bus_socket), else a D-Bus address such as
  // "unix:path=/run/dbus/system_bus_socket". Subscribes to the manager's signals (systemd sends
  // job and property signals only to subscribed clients).
  [[nodiscard]] static Result<SystemdManager> Connect(std::string_view address = {});

  SystemdManager(SystemdManager&& other) noexcept;
  SystemdManager& operator=(SystemdManager&& other) noexcept;
  SystemdManager(const SystemdManager&) = delete;
  SystemdManager& operator=(const SystemdManager&) = delete;
  ~SystemdManager();

  // daemon-reload: systemd re-reads every unit file; returns when it has.
  [[nodiscard]] Status Reload();

  // Queue a start, stop or restart job for `name` and return when it finished. A job that ends
  // with a result other than "done" is an Error naming the unit and the result ("failed",
  // "canceled", "timeout", "dependency"...); so is a job still running after job_timeout().
  // `mode` is systemd's job mode ("replace", "fail", "isolate"...). Change callbacks may run
  // while these wait.
  [[nodiscard]] Status StartUnit(std::string_view name, std::string_view mode = "replace");
  [[nodiscard]] Status StopUnit(std::string_view name, std::string_view mode = "replace");
  [[nodiscard]] Status RestartUnit(std::string_view name, std::string_view mode = "replace");

  // Sends `signal` to the unit's processes: `who` is "main", "control" or "all".
  [[nodiscard]] Status KillUnit(std::string_view name, std::string_view who, int signal);
  // Clears the "failed" state (and the restart counter) of a unit.
  [[nodiscard]] Status ResetFailedUnit(std::string_view name);

  // The unit's state; loads the unit's file if systemd has not yet, so a unit without one has
  // load_state "not-found" (not an Error).
  [[nodiscard]] Result<UnitState> GetUnitState(std::string_view name);

  // Names of the units systemd has loaded (started, or referenced, since its last start) that
  // match a glob such as "k8s_*.service".
  [[nodiscard]] Result<std::vector<std::string>> ListUnits(std::string_view pattern);

  // From now on, `on_unit_changed` is called for every property change of any unit, from
  // Process() and from the job methods above while they wait. Keep the callback short and make
  // no calls on this object from it: record the name and act after Process() returns.
  // Replaces an earlier subscription.
  [[nodiscard]] Status Subscribe(UnitChanged on_unit_changed);

  // For the caller's poll loop: poll fd() for events() for up to timeout(), then Process().
  // Call Process() before each poll, since method calls may have queued messages already read.
  [[nodiscard]] int fd() const;
  [[nodiscard]] short events() const;
  // How long the poll may block at most (until a method call's timeout); -1: no limit.
  [[nodiscard]] std::chrono::milliseconds timeout() const;
  // Dispatches every queued and readable message to the callbacks; never blocks.
  [[nodiscard]] Status Process();
  // Blocks until there is something to Process() or `timeout` passed (a simple loop's poll).
  [[nodiscard]] Status Wait(std::chrono::milliseconds timeout);

  [[nodiscard]] std::chrono::milliseconds job_timeout() const { return job_timeout_; }
  void set_job_timeout(std::chrono::milliseconds timeout) { job_timeout_ = timeout; }

 private:
  struct Connection;
  explicit SystemdManager(std::unique_ptr<Connection> connection);
  [[nodiscard]] Status RunJob(const char* method, std::string_view name, std::string_view mode);

  std::unique_ptr<Connection> connection_;
  // systemd bounds jobs itself (TimeoutStartSec=, TimeoutStopSec=); this only ends the wait of
  // a client that would otherwise hang on a lost signal.
  std::chrono::milliseconds job_timeout_ = std::chrono::minutes(3);
};

}  // namespace comet::node

#endif  // COMET_NODE_SYSTEMD_MANAGER_H_
