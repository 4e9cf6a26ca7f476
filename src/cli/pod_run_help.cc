// --help text of run, prepare, run-prepared, app sandbox and app add (rkt's flag names).
#include <string>

#include "cli/help_text.h"
#include "cli/pod_run.h"

namespace comet::cli {
namespace {

constexpr const char* kPodFlags = R"(
Pod flags (before the first image):
  --hostname=NAME            the pod's hostname (default comet-<uuid>)
  --dns=IP                   nameserver for /etc/resolv.conf (repeatable)
  --dns-search=DOMAIN        search domain (repeatable)
  --dns-opt=OPTION           resolver option (repeatable)
  --net=NETWORKS             networks, comma-separated: default (the default: a bridge, an
                             address, outbound NAT), names from /etc/comet/net.d, or all; none
                             (a loopback only), host (the host's), ns:PATH (an existing one)
  --port=[HOSTIP:]HOSTPORT:PODPORT[/tcp|/udp]
  --port=NAME:[HOSTIP:]HOSTPORT
                             publish a pod port on the host (NAME: an image's port, 80-tcp)
  --hosts-entry=IP=HOSTNAME  an extra /etc/hosts line (repeatable)
  --volume=NAME,kind=host,source=PATH[,readOnly=BOOL][,recursive=BOOL]
  --volume=NAME,kind=empty[,mode=0755][,uid=N][,gid=N][,medium=memory][,size=64M]
  --volume=/HOST:/CONTAINER[:ro]
                             a host directory mounted in every app
  --mount=volume=NAME,target=PATH[,readOnly=BOOL]
                             mount a volume in every app (after an image: in that app)
  --device=HOSTPATH[:CONTAINERPATH][:PERMISSIONS]
  --device=VENDOR/CLASS=NAME a host device node (permissions: some of rwm, default rwm), or a
                             CDI device such as nvidia.com/gpu=0 or nvidia.com/gpu=all, from
                             the specs in /etc/cdi and /var/run/cdi (comet --cdi-spec-dir);
                             in every app (after an image: in that app)
  --pod-name=NAME            a name for the pod
  --annotation=KEY=VALUE     pod annotation (repeatable)
  --pid=private|pod          each app its own pid namespace, or one shared by the pod
  --stop-timeout=SECONDS     grace period between SIGTERM and SIGKILL on stop (default 10)
  --uuid-file-save=PATH      write the pod's UUID to PATH
  --no-overlay               copy images into the pod instead of overlay mounts
  --insecure-options=OPTION,...
                             turn security features off: seccomp (run the apps without the
                             default seccomp profile; all-run does the same for now)
)";

constexpr const char* kEnvFlags =
    R"(  --set-env=KEY=VALUE        environment variable for every app (repeatable)
  --set-env-file=PATH        KEY=VALUE lines for every app
  --pull-policy=new|never|update
                             pull images missing from the store (new, the default), never
                             pull, or pull every image again
)";

constexpr const char* kAppFlags = R"(
App flags (after the app's image):
  --name=NAME                the app's name (default: the image's last path component)
  --exec=PATH                the command to run instead of the image's entrypoint and cmd
  --environment=KEY=VALUE    environment variable (repeatable)
  --user=USER  --group=GROUP user and group (names or ids) instead of the image's
  --supplementary-gids=GID,...
  --working-dir=PATH         working directory
  --readonly-rootfs          mount the app's root filesystem read-only
  --cpu=QUANTITY             CPU limit: 2, 0.5 or 500m
  --cpu-shares=N             relative CPU weight
  --memory=SIZE              memory limit: 128M, 1Gi, bytes
  --pids-limit=N             process limit
  --oom-score-adj=N          -1000 to 1000
  --caps-retain=CAP,...      keep only these capabilities (CAP_ prefix optional)
  --caps-remove=CAP,...      drop these capabilities
  --restart=Never|OnFailure|Always
                             restart policy (default Never)
  --init                     an init container: runs to success before the apps start
  -i, --interactive          keep the app's stdin open
  -t, --tty                  give the app a terminal
  --device=DEVICE            a host device node or a CDI device (see the pod flag)
)";

std::string RunHelp() {
  return std::string(
             "Usage: comet run [pod flags] IMAGE [app flags] [-- ARGS...] "
             "[--- IMAGE [app flags] [-- ARGS...]]...\n\n"
             "Runs a pod of one app per IMAGE, in the foreground unless --detach. Images missing "
             "from the store are pulled. The exit code is the first app's that failed, else 0; "
             "254 when comet itself fails.\n") +
         kPodFlags + kEnvFlags +
         "  -i, --interactive          give the terminal's stdin to the first app\n"
         "  -t, --tty                  give the first app a terminal\n"
         "  --attach                   run in the foreground (the default)\n"
         "  -d, --detach               run in the background; prints the pod's UUID\n"
         "  --rm                       remove the pod when it exits\n" +
         kAppFlags;
}

}  // namespace

std::string PodRunHelp(const std::string& command) {
  std::string text;
  if (command == "run") {
    text = RunHelp();
  } else if (command == "prepare") {
    text = std::string(
               "Usage: comet prepare [pod flags] IMAGE [app flags] [-- ARGS...] "
               "[--- IMAGE ...]...\n\n"
               "Prepares a pod without starting it and prints its UUID; start it with comet "
               "run-prepared.\n") +
           kPodFlags + kEnvFlags +
           "  -i, --interactive          the first app reads stdin\n"
           "  -t, --tty                  the first app gets a terminal\n"
           "  -q, --quiet                no pull progress\n" +
           kAppFlags;
  } else if (command == "run-prepared") {
    text =
        "Usage: comet run-prepared UUID [flags]\n\n"
        "Runs a prepared pod (UUID or a unique prefix).\n\n"
        "Flags:\n"
        "  -d, --detach               run in the background; prints the pod's UUID\n"
        "  -i, --interactive          give the terminal's stdin to the first app\n"
        "  --rm                       remove the pod when it exits\n";
  } else if (command == "app sandbox") {
    text = std::string(
               "Usage: comet app sandbox [pod flags]\n\n"
               "Starts an empty mutable pod in the background and prints its UUID; add apps "
               "with comet app add.\n") +
           kPodFlags + "  -q, --quiet                no output but the UUID\n";
  } else if (command == "app add") {
    text = std::string(
               "Usage: comet app add UUID IMAGE [app flags] [-- ARGS...]\n\n"
               "Adds an app to a mutable pod (see comet app sandbox); start it with comet app "
               "start.\n\n"
               "  --pull-policy=new|never|update\n"
               "                             when to pull the image (default new)\n") +
           kAppFlags;
  }
  return WrapHelp(text);
}

}  // namespace comet::cli
