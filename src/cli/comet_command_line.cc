// CLI11 setup of comet: rkt's command names and flags where rkt had them (fetch, image list/rm/
// gc/export/extract/render/cat-manifest), podman's where it had more (image inspect/import/tag,
// --authfile, --creds, --cert-dir, --platform). Global flags come before the command. The pod
// commands are added by pod_command_line.cc.
#include "cli/comet_command_line.h"

#include <memory>
#include <sstream>
#include <string_view>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/duration.h"
#include "cli/help_text.h"
#include "cli/pod_command_line.h"

#ifndef COMET_VERSION
#define COMET_VERSION "unknown"
#endif

namespace comet::cli {
namespace {

// Flag values converted after parsing, so that their errors read like ours, not CLI11's.
struct RawFlags {
  std::string grace_period = "24h";
};

CLI::App* AddCommand(CLI::App& parent, const std::string& name, const std::string& summary,
                     const std::string& details) {
  CLI::App* command = parent.add_subcommand(name, summary);
  command->footer(WrapHelp(details));
  return command;
}

CLI::Option* AddRepeatable(CLI::App* command, const std::string& name,
                           std::vector<std::string>& values, const std::string& help) {
  return command->add_option(name, values, help)->expected(1)->take_all()->allow_extra_args(false);
}

void AddGlobalFlags(CLI::App& app, CometInvocation& in) {
  app.add_option("--dir", in.global.dir,
                 "comet's data directory; images are stored in <dir>/images (default "
                 "/var/lib/comet, or $XDG_DATA_HOME/comet when not root)");
  app.add_flag("--debug", in.global.debug, "Print debug messages and error context");
  app.add_option("--local-config", in.global.local_config,
                 "Directory of the node's configuration: network configs in <dir>/net.d "
                 "(default /etc/comet)");
  app.add_option("--default-registry", in.global.default_registry,
                 "Registry for short image names such as \"busybox\" (default "
                 "$COMET_DEFAULT_REGISTRY, else docker.io)");
  AddRepeatable(&app, "--cdi-spec-dir", in.global.cdi_spec_dirs,
                "Directory of CDI device specs for --device=vendor.com/class=name, lowest "
                "priority first (repeatable; default /etc/cdi and /var/run/cdi)");
  app.set_version_flag("--version", fmt::format("comet version {}", COMET_VERSION),
                       "Print the version and exit");
}

void AddRegistryFlags(CLI::App* command, RegistryFlags& flags) {
  command->add_option("--platform", flags.platform,
                      "Platform to pick from a multi-platform image, os/arch[/variant] "
                      "(default: this host's)");
  command->add_option("--authfile", flags.authfile,
                      "Registry credentials file (auth.json); default $REGISTRY_AUTH_FILE, "
                      "$XDG_RUNTIME_DIR/containers/auth.json, ~/.docker/config.json");
  command->add_option("--creds", flags.creds, "Registry credentials, USER[:PASSWORD]");
  command->add_option("--cert-dir", flags.cert_dir,
                      "Directory of per-registry CA certificates (<dir>/<host:port>/*.crt), "
                      "in addition to /etc/containers/certs.d and the system CAs");
  AddRepeatable(command, "--insecure-registry", flags.insecure_registries,
                "Allow plain HTTP, or HTTPS without certificate checks, for this registry "
                "(host[:port]); loopback registries are always allowed plain HTTP");
  command->add_option("-j,--jobs", flags.jobs, "Layers downloaded at once")
      ->check(CLI::Range(1, 32));
  command->add_flag(
      "--no-unpack", flags.no_unpack,
      "Only download and verify the blobs; unpack layers when a pod first needs them");
}

void AddFetch(CLI::App& app, CometInvocation& in) {
  const std::string details =
      "IMAGE is a registry reference (docker://, optional: \"docker.io/library/busybox:latest\", "
      "\"localhost:5000/app@sha256:...\", \"busybox\"), or a file or directory to import: an "
      "OCI image layout or oci-archive, a docker-archive (`docker save`), an appc ACI, or a "
      "rootfs tarball (prefix oci:, oci-archive:, docker-archive: to say which). Blobs are "
      "verified against their digests; interrupted downloads resume. Prints the image ID of "
      "each image on stdout; progress goes to stderr when it is a terminal.";
  for (const char* name : {"fetch", "pull"}) {
    CLI::App* parent = &app;
    if (std::string(name) == "pull") {
      parent = app.get_subcommand("image");
    }
    CLI::App* fetch = AddCommand(*parent, name, "Fetch images into the store", details);
    fetch->add_option("image", in.image.images, "Images to fetch")->required();
    fetch->add_flag("-q,--quiet", in.image.quiet, "No progress output");
    AddRepeatable(fetch, "--name", in.image.names, "Name for an image fetched from a file");
    AddRegistryFlags(fetch, in.image.registry);
  }
}

void AddImageQueries(CLI::App* image, CometInvocation& in) {
  CLI::App* list = AddCommand(*image, "list", "List the images in the store",
                              "Columns: ID (the config digest, as docker and podman show it), "
                              "NAME, SIZE, IMPORT TIME, LAST USED. One line per name; images "
                              "without a name show <none>.");
  list->alias("ls");
  list->add_option("--format", in.image.format, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}));
  list->add_flag("--no-trunc", in.image.no_trunc, "Show full IDs");
  list->add_flag("-q,--quiet", in.image.quiet, "Only image IDs");

  CLI::App* inspect = AddCommand(*image, "inspect", "Show an image's details as JSON",
                                 "IMAGE is a name, an ID (or unique prefix) or a digest.");
  inspect->add_option("image", in.image.images, "Images")->required();

  CLI::App* cat = AddCommand(*image, "cat-manifest", "Print an image's manifest",
                             "Prints the stored manifest bytes (their digest is the image's "
                             "manifest digest).");
  cat->add_option("image", in.image.images, "Image")
      ->required()
      ->expected(1)
      ->allow_extra_args(false);
  cat->add_flag("--pretty-print", in.image.pretty, "Indent the JSON");
}

void AddImageChanges(CLI::App* image, CometInvocation& in, RawFlags& raw) {
  CLI::App* rm = AddCommand(*image, "rm", "Remove images",
                            "Removes the images and the blobs and layer trees no other image "
                            "uses. An image in use by a pod is not removed.");
  rm->add_option("image", in.image.images, "Images")->required();

  CLI::App* gc = AddCommand(
      *image, "gc", "Remove images not used recently",
      "Removes images not used by any pod within the grace period (rkt's image gc), then "
      "blobs and layer trees nothing references and stale partial downloads.");
  gc->add_option("--grace-period", raw.grace_period,
                 "Keep images used more recently than this (default 24h)");
  gc->add_flag("--dry-run", in.image.dry_run, "Only print what would be removed");

  CLI::App* tag = AddCommand(*image, "tag", "Give an image another name",
                             "The name moves from any image that had it.");
  tag->add_option("image", in.image.images, "Image")
      ->required()
      ->expected(1)
      ->allow_extra_args(false);
  tag->add_option("name", in.image.target, "New name")->required();

  CLI::App* import = AddCommand(
      *image, "import", "Import an image from a file",
      "FILE is an OCI image layout (directory or tar), a docker-archive, an appc ACI or a "
      "rootfs tarball (gzip, zstd or plain); --format says which when detection is not wanted.");
  import->add_option("file", in.image.images, "File or directory")
      ->required()
      ->expected(1)
      ->allow_extra_args(false);
  import->add_option("--format", in.image.format, "auto, oci, docker-archive, aci or rootfs")
      ->check(CLI::IsMember({"table", "auto", "oci", "docker-archive", "aci", "rootfs"}));
  AddRepeatable(import, "--name", in.image.names, "Name for the imported image");
  import->add_option("--select", in.image.select, "Which image of a multi-image layout");
  import->add_option("--platform", in.image.registry.platform,
                     "Platform of a multi-platform layout to import (default: this host's)");
}

void AddImageOutputs(CLI::App* image, CometInvocation& in) {
  CLI::App* exp = AddCommand(*image, "export", "Write an image to a file",
                             "Formats: oci-archive (a tar of an OCI image layout, default), "
                             "oci-dir (an OCI image layout directory), docker-archive (what "
                             "`docker load` reads).");
  exp->add_option("image", in.image.images, "Image")
      ->required()
      ->expected(1)
      ->allow_extra_args(false);
  exp->add_option("output", in.image.target, "Output file or directory")->required();
  exp->add_option("--format", in.image.format, "oci-archive, oci-dir or docker-archive")
      ->check(CLI::IsMember({"table", "oci-archive", "oci-dir", "docker-archive"}));
  exp->add_flag("--overwrite", in.image.overwrite, "Replace OUTPUT when it exists");

  const std::string tree_details =
      "Without --rootfs-only, DIR gets the image's manifest (\"manifest\"), its config "
      "(\"config\") and the root filesystem in DIR/rootfs.";
  CLI::App* extract =
      AddCommand(*image, "extract", "Write an image's root filesystem from its layer blobs",
                 "Applies the layer archives in order (whiteouts included). " + tree_details);
  CLI::App* render =
      AddCommand(*image, "render", "Write an image's root filesystem from its layer trees",
                 "Copies the store's unpacked layer trees (unpacking any that are missing), "
                 "as a pod would see them. " +
                     tree_details);
  for (CLI::App* command : {extract, render}) {
    command->add_option("image", in.image.images, "Image")
        ->required()
        ->expected(1)
        ->allow_extra_args(false);
    command->add_option("dir", in.image.target, "Destination directory")->required();
    command->add_flag("--rootfs-only", in.image.rootfs_only, "Write only the root filesystem");
    command->add_flag("--overwrite", in.image.overwrite, "Replace DIR when it exists");
  }
}

// `comet api-service`: execs comet-api-service (a separate binary, so that comet links no gRPC).
void AddApiService(CLI::App& app, CometInvocation& in) {
  CLI::App* api = AddCommand(
      app, "api-service", "Serve rkt's read-only gRPC API (v1alpha.PublicAPI)",
      "Runs comet-api-service (found beside comet, or $COMET_API_SERVICE) over the data "
      "directory until SIGTERM or SIGINT. It only reads pods, images and logs; run it as an "
      "unprivileged member of the data directory's group. See docs/api-service.md.");
  AddRepeatable(api, "--listen", in.api.listen,
                "Address to listen on, HOST:PORT or unix:PATH, repeatable (default "
                "localhost:15441)");
  api->add_option("--dir", in.global.dir, "comet's data directory (as the global --dir)");
}

// `comet install`: what rkt's `rkt install` did for its `rkt` group, for comet's data directory.
void AddInstall(CLI::App& app, CometInvocation& in) {
  CLI::App* install = AddCommand(
      app, "install", "Share the data directory with the api-service's group",
      "As root: makes the data directory, and what the api-service reads in it (pods, their "
      "manifests, statuses and logs, the event log, the image index and metadata), group-owned "
      "by GROUP and group-readable, setgid on directories so that what comet makes later "
      "inherits the group. The apps' files, the store's unpacked layer trees and leases stay "
      "private (the blobs, compressed layers included, are readable by GROUP). A data "
      "directory made while the group exists is shared from the start; this is for one made "
      "before. Idempotent. See docs/api-service.md.");
  install->add_option("--group", in.api.group, "The group (default comet; it must exist)");
}

// `comet play`: Kubernetes YAML to pods (cli/kube_play.h).
void AddPlay(CLI::App& app, CometInvocation& in) {
  CLI::App* play = AddCommand(
      app, "play", "Run the pods of Kubernetes YAML (like podman kube play)",
      "Reads v1 Pods, the pod templates of Deployments, ReplicaSets, StatefulSets, DaemonSets, "
      "Jobs and CronJobs (each run once), and the ConfigMaps and Secrets they use, from FILE "
      "(a file, a directory of *.yaml/*.yml/*.json, or - for stdin), and starts one comet pod "
      "per Pod, detached unless --attach. Prints each pod's UUID with its Kubernetes name. "
      "Fields comet does not support are named in a warning; invalid documents are errors "
      "naming the field (spec.containers[1].image). A hostPath that does not exist is created "
      "(DirectoryOrCreate, FileOrCreate, and no type). See docs/kubernetes.md.");
  play->add_option("file", in.play.files, "YAML file(s), directories, or -")->required();
  play->add_flag("--down", in.play.down, "Stop and remove the pods the YAML describes");
  play->add_flag("--replace", in.play.replace,
                 "Stop and remove running pods of the same names first");
  play->add_flag("--attach", in.play.attach,
                 "Run the pod in the foreground, its first container attached (one pod only)");
  play->add_flag("--rm", in.play.rm, "Remove each pod when it exits");
  play->add_flag("-i,--interactive", in.play.interactive,
                 "Keep the first container's stdin open (with --attach: the terminal's)");
  play->add_flag("-t,--tty", in.play.tty, "Give the first container a terminal");
  play->add_flag("-q,--quiet", in.play.quiet, "Print only the pods' UUIDs; no pull progress");
  play->add_option("--net", in.play.net,
                   "The pods' networks, as run --net (default: default; hostNetwork pods: host)");
  play->add_option("--pull-policy", in.play.pull_policy,
                   "new, never or update for every container (default: each container's "
                   "imagePullPolicy)")
      ->check(CLI::IsMember({"new", "never", "update"}));
  play->add_flag("--prepare", in.play.prepare,
                 "Prepare the pods (as `comet prepare`) instead of running them; start them "
                 "with run-prepared");
  AddRepeatable(play, "--only", in.play.only,
                "Only the pod NAMESPACE/NAME (or NAME, in namespace default), repeatable");
  AddRepeatable(play, "--annotation", in.play.annotations,
                "Annotation K=V for every pod made, repeatable");
}

// `comet node`: execs comet-node (a separate binary, so that comet links no gRPC) with every
// argument after the command word, --help included (comet-node prints its own).
void AddNode(CLI::App& app, CometInvocation& in) {
  CLI::App* node = AddCommand(
      app, "node", "Run the kubelet-style node agent (comet-node), or show its pods",
      "Runs comet-node (found beside comet, or $COMET_NODE): `comet node "
      "--pod-manifest-path=DIR ...` runs the static pods of DIR as systemd units until SIGTERM; "
      "`comet node get pods` and `comet node describe pod NAME` show them. `comet node --help` "
      "lists its flags. See docs/node.md.");
  node->set_help_flag();
  node->prefix_command();
  node->allow_extras();
  node->parse_complete_callback([node, &in] { in.node.args = node->remaining(); });
}

std::string LowerFirst(std::string message) {
  if (!message.empty() && message[0] >= 'A' && message[0] <= 'Z') {
    message[0] = static_cast<char>(message[0] - 'A' + 'a');
  }
  return message;
}

// "image list" for `comet image ls`: the chosen command's canonical path.
std::string CommandPath(CLI::App& app) {
  std::string path;
  CLI::App* current = &app;
  while (true) {
    std::vector<CLI::App*> chosen = current->get_subcommands();
    if (chosen.empty()) {
      break;
    }
    current = chosen.front();
    path += (path.empty() ? "" : " ") + current->get_name();
  }
  return path;
}

// The command word of `args` (args[0] is the program): the first argument after the global
// flags; empty when there is none or when something before it is not a global flag this
// function knows (the full command line then parses it, and reports what is wrong).
std::string_view CommandWord(const std::vector<std::string>& args) {
  static constexpr std::string_view kValueFlags[] = {"--dir", "--local-config",
                                                     "--default-registry", "--cdi-spec-dir"};
  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg.empty() || arg[0] != '-') {
      return arg;
    }
    if (arg == "--debug") {
      continue;
    }
    bool known = false;
    for (std::string_view flag : kValueFlags) {
      if (arg == flag) {
        ++i;  // its value
        known = true;
        break;
      }
      if (arg.size() > flag.size() && arg.substr(0, flag.size()) == flag &&
          arg[flag.size()] == '=') {
        known = true;
        break;
      }
    }
    if (!known) {
      return {};
    }
  }
  return {};
}

// Every command, or only stage0's `word` (run, prepare, run-prepared): those take every argument
// after the command word as it is, so the others need not be built (a pod start's main
// command-line cost). Returns `comet image` when it was built.
CLI::App* AddCommands(CLI::App& app, std::string_view word, CometInvocation& in, RawFlags& raw,
                      PodCommandParts& pod_parts) {
  if (!word.empty() && AddStage0Command(app, word, pod_parts)) {
    return nullptr;
  }
  CLI::App* image = AddCommand(app, "image", "Manage images in the store",
                               "Images are stored content-addressed (an OCI image layout) "
                               "under <dir>/images, with their layers unpacked once and "
                               "shared by every pod.");
  image->require_subcommand(0, 1);
  AddFetch(app, in);
  AddImageQueries(image, in);
  AddImageChanges(image, in, raw);
  AddImageOutputs(image, in);
  AddPodCommands(app, in, pod_parts);
  AddApiService(app, in);
  AddInstall(app, in);
  AddPlay(app, in);
  AddNode(app, in);
  return image;
}

}  // namespace

Status ParseCometCommandLine(const std::vector<std::string>& args, CometInvocation& in) {
  CLI::App app(
      "comet: a daemonless, pod-native container engine (rkt's successor). Each command is an "
      "ordinary process; state lives in directories, locks and renames.",
      "comet");
  app.require_subcommand(0, 1);
  auto formatter = std::make_shared<CLI::Formatter>();
  formatter->column_width(34);
  app.formatter(formatter);  // before the subcommands: they copy it
  RawFlags raw;
  AddGlobalFlags(app, in);
  PodCommandParts pod_parts;
  CLI::App* image = AddCommands(app, CommandWord(args), in, raw, pod_parts);

  std::vector<std::string> rest(args.rbegin(), args.rend());
  if (!rest.empty()) {
    rest.pop_back();
  }
  try {
    app.parse(rest);
  } catch (const CLI::ParseError& e) {
    in.command = CommandPath(app);
    std::ostringstream out;
    std::ostringstream err;
    if (app.exit(e, out, err) == 0) {  // --help or --version
      in.output = out.str();
      in.command.clear();
      return Ok();
    }
    Error error = Error::Invalid(LowerFirst(e.what()));
    if (!in.command.empty()) {
      error.AddContext(in.command);
    }
    return Err(std::move(error));
  }
  in.command = CommandPath(app);
  if (in.command.empty()) {
    in.output = app.help();
    return Ok();
  }
  if (in.command == "image" && image != nullptr) {
    in.output = image->help();
    in.command.clear();
    return Ok();
  }
  if (in.command == "app" && pod_parts.app != nullptr) {
    in.output = pod_parts.app->help();
    in.command.clear();
    return Ok();
  }
  if (IsPodCommandPath(in.command)) {
    return FinishPodCommand(pod_parts, in);
  }
  if (in.command == "image pull") {
    in.command = "fetch";
  }
  if (in.command == "image gc") {
    auto grace = ParseDuration(raw.grace_period);
    if (!grace) {
      return Err(std::move(grace).error().AddContext("--grace-period").AddContext(in.command));
    }
    in.image.grace_period = *grace;
  }
  return Ok();
}

}  // namespace comet::cli
