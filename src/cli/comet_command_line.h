// comet's command line (rkt's surface): argv parsed into one CometInvocation without running
// anything, so that flags and defaults are unit-testable. CLI11 is included only by
// comet_command_line.cc and pod_command_line.cc (and comet-runtime's command_line.cc). Not
// thread-safe; call from main().
#ifndef COMET_CLI_COMET_COMMAND_LINE_H_
#define COMET_CLI_COMET_COMMAND_LINE_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace comet::cli {

// Flags before the command, shared by every command.
struct CometGlobalFlags {
  // comet's data directory (rkt's --dir): images live in <dir>/images. Empty: /var/lib/comet,
  // or $XDG_DATA_HOME/comet (~/.local/share/comet) when not root.
  std::string dir;
  bool debug = false;
  // Registry for short names ("busybox"); $COMET_DEFAULT_REGISTRY, else docker.io.
  std::string default_registry;
  // rkt's --local-config: the node's configuration (networks in <dir>/net.d).
  std::string local_config = "/etc/comet";
  // --cdi-spec-dir (repeatable): where CDI device specs are read, lowest priority first; empty:
  // /etc/cdi then /var/run/cdi.
  std::vector<std::string> cdi_spec_dirs;
};

// Flags of `fetch` / `image pull`: where images come from and how to reach registries.
struct RegistryFlags {
  std::string platform;  // "os/arch[/variant]"; empty: the host's
  std::string authfile;
  std::string creds;  // "user[:password]"
  std::string cert_dir;
  std::vector<std::string> insecure_registries;
  int jobs = 3;
  bool no_unpack = false;
};

struct ImageFlags {
  std::vector<std::string> images;  // positional image references / files
  std::string format = "table";     // list, inspect: table or json; export, import: archive form
  bool no_trunc = false;
  bool quiet = false;
  bool pretty = false;             // cat-manifest --pretty-print
  std::vector<std::string> names;  // import --name
  std::string select;              // import --select (one image of a multi-image layout)
  std::string target;              // export OUTPUT, extract/render DIR, tag NAME
  bool rootfs_only = false;
  bool overwrite = false;
  bool dry_run = false;
  std::chrono::nanoseconds grace_period = std::chrono::hours(24);
  RegistryFlags registry;
};

// Flags of the pod commands that comet parses itself (list, status, stop, rm, gc, cat-manifest,
// logs, enter, exec, attach, app start/stop/rm/list/status/exec). run, prepare, run-prepared,
// app sandbox and app add take their arguments raw (`args`; stage0 parses them).
struct PodFlags {
  std::vector<std::string> uuids;  // UUIDs or unique prefixes (>= 4 characters)
  std::string uuid_file;           // --uuid-file: read the UUID from this file
  // list: table, json or json-pretty; status, app list, app status: table (key=value) or json.
  std::string format = "table";
  bool no_legend = false;  // list
  bool full = false;       // list: whole UUIDs and image IDs
  // status --wait[=DUR] / --wait-ready[=DUR]: nullopt not asked; a zero-or-more duration, or
  // kForever when given without a value.
  std::optional<std::chrono::nanoseconds> wait;
  std::optional<std::chrono::nanoseconds> wait_ready;
  static constexpr std::chrono::nanoseconds kForever = std::chrono::nanoseconds::max();
  bool force = false;                               // stop, app stop: no grace period
  std::optional<std::chrono::nanoseconds> timeout;  // stop, app stop: grace period override
  std::chrono::nanoseconds grace_period = std::chrono::minutes(30);   // gc
  std::chrono::nanoseconds expire_prepared = std::chrono::hours(24);  // gc
  bool mark_only = false;                                             // gc
  bool pretty = false;                                                // cat-manifest --pretty-print
  std::string app;                                                    // --app
  bool follow = false;                                                // logs
  int64_t tail = -1;                                                  // logs: last N lines; -1 all
  std::string since;  // logs: a duration back from now, or an RFC 3339 time
  bool timestamps = false;
  bool interactive = false;          // exec -i
  std::optional<bool> tty;           // exec/enter -t; nullopt: enter decides (stdin is a terminal)
  std::vector<std::string> env;      // exec --env K=V
  std::string user;                  // exec --user
  std::string workdir;               // exec --workdir
  std::vector<std::string> command;  // exec/enter: CMD ARGS... (after the UUID)
  bool no_stdin = false;             // attach
  std::string detach_keys = "ctrl-p,ctrl-q";  // attach
  std::vector<std::string> args;              // the raw arguments of the stage0 commands
};

// `comet api-service`: the flags handed to the comet-api-service binary.
struct ApiServiceFlags {
  std::vector<std::string> listen;  // HOST:PORT or unix:PATH; empty: the service's default
  std::string group = "comet";      // `comet install --group`
};

// `comet play`.
struct PlayFlags {
  std::vector<std::string> files;  // files, directories, or "-" for stdin
  bool down = false;
  bool replace = false;
  bool attach = false;  // run the (single) pod in the foreground, attached
  bool rm = false;
  bool interactive = false;
  bool tty = false;
  bool quiet = false;
  std::string net;          // --net: overrides the pods' networks (not hostNetwork pods)
  std::string pull_policy;  // --pull-policy: overrides every container's imagePullPolicy
  // --prepare: prepare the pods (rkt prepare) instead of running them; the node agent then
  // starts each with `run-prepared` from a systemd unit.
  bool prepare = false;
  std::vector<std::string> only;         // --only NAMESPACE/NAME: just these pods
  std::vector<std::string> annotations;  // --annotation K=V: added to every pod made
};

// `comet node`: comet-node's arguments, handed over as they are (it parses them itself).
struct NodeAgentFlags {
  std::vector<std::string> args;
};

struct CometInvocation {
  // "fetch", "image list", "image rm", ... (the canonical path of the chosen command); empty
  // when only help or the version was asked for.
  std::string command;
  std::string output;  // help or version text to print on stdout instead of running anything
  CometGlobalFlags global;
  ImageFlags image;
  PodFlags pod;
  ApiServiceFlags api;
  PlayFlags play;
  NodeAgentFlags node;
};

// Parses `args` (args[0] is the program name). Errors carry the command as context.
[[nodiscard]] Status ParseCometCommandLine(const std::vector<std::string>& args,
                                           CometInvocation& invocation);

}  // namespace comet::cli

#endif  // COMET_CLI_COMET_COMMAND_LINE_H_
