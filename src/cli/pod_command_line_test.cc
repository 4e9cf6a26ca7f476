#include "cli/pod_command_line.h"

#include <gtest/gtest.h>

namespace comet::cli {
namespace {

using std::chrono::seconds;

Result<CometInvocation> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "comet");
  CometInvocation in;
  Status status = ParseCometCommandLine(args, in);
  if (!status) {
    return Err(status.error());
  }
  return in;
}

std::string ErrorText(const Result<CometInvocation>& in) {
  return in ? std::string("(parsed)") : in.error().ToString();
}

TEST(PodCommandLine, Stage0CommandsPassArgumentsThrough) {
  auto run = Parse({"--dir", "/d", "run", "--hostname", "h", "busybox", "--exec", "/bin/sh", "--",
                    "-c", "echo hi", "---", "alpine", "--help"});
  ASSERT_TRUE(run) << ErrorText(run);
  EXPECT_EQ(run->command, "run");
  EXPECT_EQ(run->global.dir, "/d");
  EXPECT_EQ(run->pod.args,
            (std::vector<std::string>{"--hostname", "h", "busybox", "--exec", "/bin/sh", "--", "-c",
                                      "echo hi", "---", "alpine", "--help"}));
  auto help = Parse({"prepare", "--help"});
  ASSERT_TRUE(help) << ErrorText(help);
  EXPECT_EQ(help->command, "prepare");  // stage0 prints its own help
  EXPECT_EQ(help->pod.args, (std::vector<std::string>{"--help"}));
  auto add = Parse({"app", "add", "1234abcd", "busybox", "--name", "x"});
  ASSERT_TRUE(add) << ErrorText(add);
  EXPECT_EQ(add->command, "app add");
  EXPECT_EQ(add->pod.args, (std::vector<std::string>{"1234abcd", "busybox", "--name", "x"}));
  auto sandbox = Parse({"app", "sandbox"});
  ASSERT_TRUE(sandbox) << ErrorText(sandbox);
  EXPECT_EQ(sandbox->command, "app sandbox");
  EXPECT_TRUE(sandbox->pod.args.empty());
  auto prepared = Parse({"run-prepared", "-d", "abcd1234"});
  ASSERT_TRUE(prepared) << ErrorText(prepared);
  EXPECT_EQ(prepared->pod.args, (std::vector<std::string>{"-d", "abcd1234"}));
}

// stage0's commands are parsed without the other commands built: the global flags before them,
// in every spelling, and the errors about them read as with the whole command line.
TEST(PodCommandLine, Stage0CommandsAfterGlobalFlags) {
  auto run = Parse({"--debug", "--dir=/d", "--local-config", "/etc/x", "--cdi-spec-dir", "/cdi",
                    "--default-registry=r.example", "run", "--rm", "busybox"});
  ASSERT_TRUE(run) << ErrorText(run);
  EXPECT_EQ(run->command, "run");
  EXPECT_TRUE(run->global.debug);
  EXPECT_EQ(run->global.dir, "/d");
  EXPECT_EQ(run->global.local_config, "/etc/x");
  EXPECT_EQ(run->global.cdi_spec_dirs, (std::vector<std::string>{"/cdi"}));
  EXPECT_EQ(run->global.default_registry, "r.example");
  EXPECT_EQ(run->pod.args, (std::vector<std::string>{"--rm", "busybox"}));
  // "run" as the value of a global flag is not the command word.
  auto list = Parse({"--dir", "run", "--local-config", "run", "--default-registry", "run",
                     "--cdi-spec-dir", "run", "list"});
  ASSERT_TRUE(list) << ErrorText(list);
  EXPECT_EQ(list->command, "list");
  EXPECT_EQ(list->global.dir, "run");
  EXPECT_EQ(list->global.local_config, "run");
  auto unknown = Parse({"--bogus", "run", "busybox"});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().ToString().find("--bogus"), std::string::npos)
      << unknown.error().ToString();
  auto help = Parse({"--help"});
  ASSERT_TRUE(help) << ErrorText(help);
  for (const char* command : {"run", "run-prepared", "list", "image", "app"}) {
    EXPECT_NE(help->output.find(command), std::string::npos) << command;
  }
}

TEST(PodCommandLine, List) {
  auto in = Parse({"list", "--format=json-pretty", "--no-legend", "--full"});
  ASSERT_TRUE(in) << ErrorText(in);
  EXPECT_EQ(in->command, "list");
  EXPECT_EQ(in->pod.format, "json-pretty");
  EXPECT_TRUE(in->pod.no_legend);
  EXPECT_TRUE(in->pod.full);
  EXPECT_FALSE(Parse({"list", "--format=yaml"}));
  auto ls = Parse({"ls"});
  ASSERT_TRUE(ls);
  EXPECT_EQ(ls->command, "list");
  EXPECT_EQ(ls->pod.format, "table");
}

TEST(PodCommandLine, StatusWaitTakesAnOptionalValue) {
  auto plain = Parse({"status", "abcd"});
  ASSERT_TRUE(plain) << ErrorText(plain);
  EXPECT_FALSE(plain->pod.wait);
  EXPECT_FALSE(plain->pod.wait_ready);
  EXPECT_EQ(plain->pod.uuids, (std::vector<std::string>{"abcd"}));
  // --wait without a value does not swallow the UUID.
  auto forever = Parse({"status", "--wait", "abcd"});
  ASSERT_TRUE(forever) << ErrorText(forever);
  ASSERT_TRUE(forever->pod.wait);
  EXPECT_EQ(*forever->pod.wait, PodFlags::kForever);
  EXPECT_EQ(forever->pod.uuids, (std::vector<std::string>{"abcd"}));
  auto timed = Parse({"status", "--wait=5s", "--wait-ready=1m", "abcd"});
  ASSERT_TRUE(timed) << ErrorText(timed);
  EXPECT_EQ(*timed->pod.wait, seconds(5));
  EXPECT_EQ(*timed->pod.wait_ready, seconds(60));
  auto bad = Parse({"status", "--wait=soon", "abcd"});
  ASSERT_FALSE(bad);
  EXPECT_NE(ErrorText(bad).find("status: --wait:"), std::string::npos) << ErrorText(bad);
}

TEST(PodCommandLine, UuidOrUuidFile) {
  auto file = Parse({"status", "--uuid-file", "/tmp/u"});
  ASSERT_TRUE(file) << ErrorText(file);
  EXPECT_EQ(file->pod.uuid_file, "/tmp/u");
  EXPECT_TRUE(file->pod.uuids.empty());
  auto missing = Parse({"status"});
  ASSERT_FALSE(missing);
  EXPECT_NE(ErrorText(missing).find("status: missing pod UUID"), std::string::npos)
      << ErrorText(missing);
  EXPECT_FALSE(Parse({"status", "--uuid-file", "/tmp/u", "abcd"}));
  EXPECT_FALSE(Parse({"cat-manifest", "a", "b"}));
  auto many = Parse({"rm", "abcd", "ef01", "--uuid-file=/tmp/u"});
  ASSERT_TRUE(many) << ErrorText(many);
  EXPECT_EQ(many->pod.uuids.size(), 2U);
  EXPECT_FALSE(Parse({"stop"}));
}

TEST(PodCommandLine, StopGcDurations) {
  auto stop = Parse({"stop", "--force", "--timeout", "7", "abcd", "ef01"});
  ASSERT_TRUE(stop) << ErrorText(stop);
  EXPECT_TRUE(stop->pod.force);
  EXPECT_EQ(*stop->pod.timeout, seconds(7));
  auto stop2 = Parse({"stop", "--timeout=1m30s", "abcd"});
  ASSERT_TRUE(stop2) << ErrorText(stop2);
  EXPECT_EQ(*stop2->pod.timeout, seconds(90));
  EXPECT_FALSE(Parse({"stop", "abcd"})->pod.timeout);

  auto gc = Parse({"gc"});
  ASSERT_TRUE(gc) << ErrorText(gc);
  EXPECT_EQ(gc->pod.grace_period, std::chrono::minutes(30));
  EXPECT_EQ(gc->pod.expire_prepared, std::chrono::hours(24));
  EXPECT_FALSE(gc->pod.mark_only);
  auto gc2 = Parse({"gc", "--grace-period=0", "--expire-prepared=1h", "--mark-only"});
  ASSERT_TRUE(gc2) << ErrorText(gc2);
  EXPECT_EQ(gc2->pod.grace_period, seconds(0));
  EXPECT_EQ(gc2->pod.expire_prepared, std::chrono::hours(1));
  EXPECT_TRUE(gc2->pod.mark_only);
  EXPECT_FALSE(Parse({"gc", "--grace-period=x"}));
}

TEST(PodCommandLine, Logs) {
  auto in =
      Parse({"logs", "-f", "--tail=10", "--since=5m", "--timestamps", "--app", "web", "abcd"});
  ASSERT_TRUE(in) << ErrorText(in);
  EXPECT_TRUE(in->pod.follow);
  EXPECT_EQ(in->pod.tail, 10);
  EXPECT_EQ(in->pod.since, "5m");
  EXPECT_TRUE(in->pod.timestamps);
  EXPECT_EQ(in->pod.app, "web");
  EXPECT_EQ(in->pod.uuids, (std::vector<std::string>{"abcd"}));
  EXPECT_FALSE(Parse({"logs", "--tail=-3", "abcd"}));
}

TEST(PodCommandLine, ExecCommandKeepsItsFlags) {
  auto in = Parse({"exec", "-i", "-t", "--app=web", "--env", "A=1", "-e", "B=2", "--user", "7",
                   "--workdir", "/w", "abcd", "ls", "-l", "--app=x"});
  ASSERT_TRUE(in) << ErrorText(in);
  EXPECT_EQ(in->command, "exec");
  EXPECT_TRUE(in->pod.interactive);
  ASSERT_TRUE(in->pod.tty);
  EXPECT_TRUE(*in->pod.tty);
  EXPECT_EQ(in->pod.app, "web");
  EXPECT_EQ(in->pod.env, (std::vector<std::string>{"A=1", "B=2"}));
  EXPECT_EQ(in->pod.user, "7");
  EXPECT_EQ(in->pod.workdir, "/w");
  EXPECT_EQ(in->pod.uuids, (std::vector<std::string>{"abcd"}));
  EXPECT_EQ(in->pod.command, (std::vector<std::string>{"ls", "-l", "--app=x"}));
  auto dashes = Parse({"app", "exec", "abcd", "--", "sh", "-c", "true"});
  ASSERT_TRUE(dashes) << ErrorText(dashes);
  EXPECT_EQ(dashes->command, "app exec");
  EXPECT_FALSE(dashes->pod.tty);
  EXPECT_EQ(dashes->pod.command, (std::vector<std::string>{"sh", "-c", "true"}));
  auto no_command = Parse({"exec", "abcd"});
  ASSERT_FALSE(no_command);
  EXPECT_NE(ErrorText(no_command).find("missing the command"), std::string::npos);
  EXPECT_FALSE(Parse({"exec"}));
  auto enter = Parse({"enter", "--app", "web", "abcd"});
  ASSERT_TRUE(enter) << ErrorText(enter);
  EXPECT_TRUE(enter->pod.command.empty());
  EXPECT_FALSE(enter->pod.tty);
}

TEST(PodCommandLine, AttachAndApps) {
  auto attach = Parse({"attach", "--no-stdin", "--detach-keys=ctrl-a", "abcd"});
  ASSERT_TRUE(attach) << ErrorText(attach);
  EXPECT_TRUE(attach->pod.no_stdin);
  EXPECT_EQ(attach->pod.detach_keys, "ctrl-a");
  auto start = Parse({"app", "start", "abcd", "--app=web"});
  ASSERT_TRUE(start) << ErrorText(start);
  EXPECT_EQ(start->command, "app start");
  EXPECT_EQ(start->pod.app, "web");
  EXPECT_FALSE(Parse({"app", "stop", "abcd"}));  // --app is required
  auto stop = Parse({"app", "stop", "abcd", "--app=web", "--force"});
  ASSERT_TRUE(stop) << ErrorText(stop);
  EXPECT_TRUE(stop->pod.force);
  auto list = Parse({"app", "ls", "abcd", "--format=json"});
  ASSERT_TRUE(list) << ErrorText(list);
  EXPECT_EQ(list->command, "app list");
  auto status = Parse({"app", "status", "abcd", "--app=web"});
  ASSERT_TRUE(status) << ErrorText(status);
  EXPECT_EQ(status->command, "app status");
}

TEST(PodCommandLine, HelpForEveryCommand) {
  for (const char* command :
       {"list", "status", "stop", "rm", "gc", "cat-manifest", "logs", "enter", "exec", "attach"}) {
    auto in = Parse({command, "--help"});
    ASSERT_TRUE(in) << command << ": " << ErrorText(in);
    EXPECT_TRUE(in->command.empty()) << command;
    EXPECT_NE(in->output.find("Usage"), std::string::npos) << command << in->output;
  }
  for (const char* command : {"start", "stop", "rm", "list", "status", "exec"}) {
    auto in = Parse({"app", command, "--help"});
    ASSERT_TRUE(in) << command << ": " << ErrorText(in);
    EXPECT_FALSE(in->output.empty()) << command;
  }
  auto app = Parse({"app"});
  ASSERT_TRUE(app);
  EXPECT_NE(app->output.find("sandbox"), std::string::npos) << app->output;
  auto top = Parse({"--help"});
  ASSERT_TRUE(top);
  for (const char* command : {"run", "prepare", "list", "status", "logs", "exec", "app"}) {
    EXPECT_NE(top->output.find(command), std::string::npos) << command;
  }
  EXPECT_TRUE(IsPodCommandPath("app exec"));
  EXPECT_FALSE(IsPodCommandPath("image list"));
}

}  // namespace
}  // namespace comet::cli
