#include "cli/command_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace comet::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Invocation Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "comet-runtime");
  Invocation invocation;
  Status status = ParseCommandLine(args, invocation);
  EXPECT_TRUE(status) << status.error().ToString();
  return invocation;
}

std::string ParseError(std::vector<std::string> args, Invocation* out = nullptr) {
  args.insert(args.begin(), "comet-runtime");
  Invocation invocation;
  Status status = ParseCommandLine(args, invocation);
  EXPECT_FALSE(status);
  if (out != nullptr) {
    *out = invocation;
  }
  return status ? "" : status.error().ToString();
}

TEST(CommandLineTest, ConmonCreateWithGlobalFlagsFirst) {
  Invocation in =
      Parse({"--root", "/run/x", "--log", "/tmp/log", "--log-format", "json", "--systemd-cgroup",
             "create", "--bundle", "/b", "--pid-file", "/p", "--no-pivot", "--no-new-keyring",
             "--console-socket", "/s", "--preserve-fds", "2", "ctr1"});
  EXPECT_EQ(in.command, "create");
  EXPECT_EQ(in.global.root, "/run/x");
  EXPECT_EQ(in.log_file, "/tmp/log");
  EXPECT_EQ(in.log_format, log::Format::kJson);
  EXPECT_TRUE(in.global.systemd_cgroup);
  EXPECT_EQ(in.id, "ctr1");
  EXPECT_EQ(in.run.create.id, "ctr1");
  EXPECT_EQ(in.run.create.bundle, "/b");
  EXPECT_EQ(in.run.create.pid_file, "/p");
  EXPECT_EQ(in.run.create.console_socket, "/s");
  EXPECT_EQ(in.run.create.preserve_fds, 2);
  EXPECT_TRUE(in.run.create.no_pivot);
  EXPECT_TRUE(in.run.create.no_new_keyring);
}

TEST(CommandLineTest, EqualsFormAndShortFlags) {
  Invocation in =
      Parse({"--root=/r", "--log-format=json", "create", "-b", "/b", "--pid-file=/p", "c"});
  EXPECT_EQ(in.global.root, "/r");
  EXPECT_EQ(in.log_format, log::Format::kJson);
  EXPECT_EQ(in.run.create.bundle, "/b");
  EXPECT_EQ(in.run.create.pid_file, "/p");
}

TEST(CommandLineTest, Defaults) {
  Invocation in = Parse({"create", "c"});
  EXPECT_EQ(in.global.root, "");
  EXPECT_EQ(in.global.rootless, std::nullopt);
  EXPECT_FALSE(in.global.debug);
  EXPECT_EQ(in.log_file, "");
  EXPECT_EQ(in.log_format, log::Format::kText);
  EXPECT_EQ(in.run.create.bundle, ".");
  EXPECT_EQ(in.run.create.preserve_fds, 0);
}

TEST(CommandLineTest, Rootless) {
  EXPECT_EQ(Parse({"--rootless", "true", "state", "c"}).global.rootless, true);
  EXPECT_EQ(Parse({"--rootless=false", "state", "c"}).global.rootless, false);
  EXPECT_EQ(Parse({"--rootless", "auto", "state", "c"}).global.rootless, std::nullopt);
  EXPECT_THAT(ParseError({"--rootless", "maybe", "state", "c"}), HasSubstr("maybe"));
}

TEST(CommandLineTest, RunFlags) {
  Invocation in = Parse({"run", "-d", "--keep", "--bundle", "/b", "c"});
  EXPECT_EQ(in.command, "run");
  EXPECT_TRUE(in.run.detach);
  EXPECT_TRUE(in.run.keep);
  EXPECT_EQ(in.run.create.bundle, "/b");
  EXPECT_EQ(in.run.create.id, "c");
}

TEST(CommandLineTest, ExecKeepsFlagsAfterTheIdInTheCommand) {
  Invocation in = Parse({"exec", "c", "sh", "-c", "ls -l", "--tty"});
  EXPECT_EQ(in.exec.id, "c");
  EXPECT_THAT(in.exec.args, ElementsAre("sh", "-c", "ls -l", "--tty"));
  EXPECT_FALSE(in.exec.tty);
}

TEST(CommandLineTest, ExecHelpAfterTheIdIsTheCommand) {
  Invocation in = Parse({"exec", "c", "ls", "--help"});
  EXPECT_EQ(in.command, "exec");
  EXPECT_THAT(in.exec.args, ElementsAre("ls", "--help"));
}

TEST(CommandLineTest, ExecDoubleDash) {
  EXPECT_THAT(Parse({"exec", "c", "--", "ls", "-la"}).exec.args, ElementsAre("ls", "-la"));
  Invocation in = Parse({"exec", "-t", "--", "c", "ls", "-la"});
  EXPECT_TRUE(in.exec.tty);
  EXPECT_EQ(in.exec.id, "c");
  EXPECT_THAT(in.exec.args, ElementsAre("ls", "-la"));
}

TEST(CommandLineTest, ExecRepeatableFlagsTakeOneValueEach) {
  Invocation in =
      Parse({"exec", "-e", "A=1", "--env", "B=2", "-g", "5", "-g", "6,7", "-c", "CAP_KILL",
             "--cap=CAP_CHOWN", "-u", "1000:100", "--cwd", "/tmp", "--no-new-privs", "c", "env"});
  EXPECT_EQ(in.exec.id, "c");
  EXPECT_THAT(in.exec.env, ElementsAre("A=1", "B=2"));
  EXPECT_THAT(in.exec.additional_gids, ElementsAre(5U, 6U, 7U));
  EXPECT_THAT(in.exec.caps, ElementsAre("CAP_KILL", "CAP_CHOWN"));
  EXPECT_EQ(in.exec.user, "1000:100");
  EXPECT_EQ(in.exec.cwd, "/tmp");
  EXPECT_TRUE(in.exec.no_new_privs);
  EXPECT_THAT(in.exec.args, ElementsAre("env"));
}

TEST(CommandLineTest, ExecWithProcessFileAsConmonRunsIt) {
  Invocation in = Parse({"--root", "/r", "exec", "--pid-file", "/p", "--process", "/proc.json",
                         "--detach", "--console-socket", "/s", "--preserve-fds", "1", "c"});
  EXPECT_EQ(in.exec.process_path, "/proc.json");
  EXPECT_TRUE(in.exec.detach);
  EXPECT_EQ(in.exec.pid_file, "/p");
  EXPECT_EQ(in.exec.console_socket, "/s");
  EXPECT_EQ(in.exec.preserve_fds, 1);
  EXPECT_THAT(in.exec.args, IsEmpty());
}

TEST(CommandLineTest, ExecErrors) {
  EXPECT_THAT(ParseError({"exec", "c"}), HasSubstr("exec: no command given"));
  EXPECT_THAT(ParseError({"exec", "-p", "/x.json", "c", "ls"}), HasSubstr("exclude"));
  EXPECT_THAT(ParseError({"exec", "-u", "root", "c", "ls"}), HasSubstr("exec: invalid uid"));
  EXPECT_THAT(ParseError({"exec", "-g", "x", "c", "ls"}), HasSubstr("invalid additional gid"));
  EXPECT_THAT(ParseError({"exec", "--preserve-fds", "-1", "c", "ls"}), HasSubstr("exec"));
}

TEST(CommandLineTest, Kill) {
  Invocation in = Parse({"kill", "c"});
  EXPECT_EQ(in.kill.id, "c");
  EXPECT_EQ(in.kill.signal, 15);
  EXPECT_FALSE(in.kill.all);
  EXPECT_EQ(Parse({"kill", "c", "KILL"}).kill.signal, 9);
  in = Parse({"kill", "--all", "c", "9"});
  EXPECT_TRUE(in.kill.all);
  EXPECT_EQ(in.kill.signal, 9);
  EXPECT_EQ(Parse({"kill", "-a", "c", "SIGHUP"}).kill.signal, 1);
  EXPECT_THAT(ParseError({"kill", "c", "BOGUS"}), HasSubstr("kill: unknown signal \"BOGUS\""));
}

TEST(CommandLineTest, DeleteForceBeforeOrAfterTheId) {
  EXPECT_TRUE(Parse({"delete", "-f", "c"}).force);
  EXPECT_TRUE(Parse({"delete", "c", "--force"}).force);
  EXPECT_FALSE(Parse({"delete", "c"}).force);
}

TEST(CommandLineTest, SimpleCommandsTakeAnId) {
  for (const char* command : {"start", "state", "pause", "resume"}) {
    Invocation in = Parse({command, "c"});
    EXPECT_EQ(in.command, command);
    EXPECT_EQ(in.id, "c");
  }
  EXPECT_THAT(ParseError({"start"}), HasSubstr("start: container-id is required"));
  EXPECT_THAT(ParseError({"state", "a", "b"}), HasSubstr("state"));
}

TEST(CommandLineTest, List) {
  Invocation in = Parse({"list"});
  EXPECT_EQ(in.command, "list");
  EXPECT_EQ(in.format, "table");
  EXPECT_FALSE(in.quiet);
  in = Parse({"ls", "-q"});
  EXPECT_EQ(in.command, "list");
  EXPECT_TRUE(in.quiet);
  EXPECT_EQ(Parse({"list", "--format", "json"}).format, "json");
  EXPECT_EQ(Parse({"list", "-f", "json"}).format, "json");
  EXPECT_THAT(ParseError({"list", "--format", "yaml"}), HasSubstr("list"));
}

TEST(CommandLineTest, PsOptionsAfterTheId) {
  Invocation in = Parse({"ps", "c", "-o", "pid,comm"});
  EXPECT_EQ(in.id, "c");
  EXPECT_EQ(in.format, "table");
  EXPECT_THAT(in.ps_args, ElementsAre("-o", "pid,comm"));
  in = Parse({"ps", "--format", "json", "c"});
  EXPECT_EQ(in.format, "json");
  EXPECT_THAT(in.ps_args, IsEmpty());
}

TEST(CommandLineTest, Update) {
  Invocation in = Parse({"update", "--resources", "-", "c"});
  EXPECT_EQ(in.resources_file, "-");
  EXPECT_TRUE(in.update.Empty());
  in = Parse({"update", "--memory", "512m", "--cpu-quota=-1", "--pids-limit", "10", "c"});
  EXPECT_EQ(in.update.memory, "512m");
  EXPECT_EQ(in.update.cpu_quota, "-1");
  EXPECT_EQ(in.update.pids_limit, "10");
  EXPECT_EQ(in.update.cpu_shares, std::nullopt);
  EXPECT_THAT(ParseError({"update", "c"}), HasSubstr("update: nothing to update"));
}

TEST(CommandLineTest, SpecAndFeatures) {
  Invocation in = Parse({"spec"});
  EXPECT_EQ(in.command, "spec");
  EXPECT_EQ(in.spec_bundle, ".");
  EXPECT_FALSE(in.spec_rootless);
  in = Parse({"spec", "-b", "/b", "--rootless"});
  EXPECT_EQ(in.spec_bundle, "/b");
  EXPECT_TRUE(in.spec_rootless);
  EXPECT_EQ(Parse({"features"}).command, "features");
}

TEST(CommandLineTest, HelpAndVersion) {
  Invocation in = Parse({"--help"});
  EXPECT_EQ(in.command, "");
  EXPECT_THAT(in.output, HasSubstr("Usage: comet-runtime"));
  EXPECT_THAT(in.output, HasSubstr("create"));
  in = Parse({"create", "--help"});
  EXPECT_EQ(in.command, "");
  EXPECT_THAT(in.output, HasSubstr("--pid-file"));
  EXPECT_THAT(in.output, HasSubstr("OCI bundle"));
  EXPECT_THAT(Parse({"-v"}).output, HasSubstr("comet-runtime version"));
  EXPECT_THAT(Parse({"--version"}).output, HasSubstr("spec: "));
  EXPECT_THAT(Parse({}).output, HasSubstr("Usage: comet-runtime"));
}

TEST(CommandLineTest, EveryCommandHasHelp) {
  for (const char* command : {"create", "run", "start", "state", "kill", "delete", "pause",
                              "resume", "exec", "list", "ps", "update", "spec", "features"}) {
    Invocation in = Parse({command, "--help"});
    EXPECT_THAT(in.output, HasSubstr(std::string("comet-runtime ") + command)) << command;
  }
}

TEST(CommandLineTest, ErrorsKeepTheLogFlagsForReporting) {
  Invocation in;
  std::string error =
      ParseError({"--log", "/tmp/l", "--log-format", "json", "create", "--bogus", "c"}, &in);
  EXPECT_THAT(error, HasSubstr("create: "));
  EXPECT_THAT(error, HasSubstr("--bogus"));
  EXPECT_EQ(in.log_file, "/tmp/l");
  EXPECT_EQ(in.log_format, log::Format::kJson);
}

TEST(CommandLineTest, UnknownCommand) {
  EXPECT_THAT(ParseError({"checkpoint", "c"}), HasSubstr("unknown command \"checkpoint\""));
  EXPECT_THAT(ParseError({"--root", "/r", "bogus"}), HasSubstr("unknown command \"bogus\""));
  EXPECT_THAT(ParseError({"--bogus", "state", "c"}), HasSubstr("--bogus"));
  // Global flags belong before the command, as with runc.
  EXPECT_THAT(ParseError({"state", "--root", "/r", "c"}), HasSubstr("--root"));
}

}  // namespace
}  // namespace comet::cli
