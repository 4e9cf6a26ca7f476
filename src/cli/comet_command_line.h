// comet's command line (rkt's surface): argv parsed into one CometInvocation without running
// anything, so that flags and defaults are unit-testable. The second CLI11 translation unit
// (beside comet-runtime's). Not thread-safe; call from main().
#ifndef COMET_CLI_COMET_COMMAND_LINE_H_
#define COMET_CLI_COMET_COMMAND_LINE_H_

#include <chrono>
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

struct CometInvocation {
  // "fetch", "image list", "image rm", ... (the canonical path of the chosen command); empty
  // when only help or the version was asked for.
  std::string command;
  std::string output;  // help or version text to print on stdout instead of running anything
  CometGlobalFlags global;
  ImageFlags image;
};

// Parses `args` (args[0] is the program name). Errors carry the command as context.
[[nodiscard]] Status ParseCometCommandLine(const std::vector<std::string>& args,
                                           CometInvocation& invocation);

}  // namespace comet::cli

#endif  // COMET_CLI_COMET_COMMAND_LINE_H_
