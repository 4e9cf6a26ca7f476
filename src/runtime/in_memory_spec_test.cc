// Privileged tests of a spec handed to the runtime in memory (CreateOptions::spec, and the hooks
// argument of Start and Delete), as the pod supervisor does: it must behave exactly as the same
// spec read from <bundle>/config.json. Busybox rootfs in a temp dir; bodies run in a forked child.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/scope_exit.h"
#include "oci/default_spec.h"
#include "oci/spec_json.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "runtime/runtime.h"
#include "testing/busybox_rootfs.h"
#include "testing/child_check.h"
#include "testing/in_child.h"

namespace comet::runtime {
namespace {

int Reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return -1;
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class InMemorySpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::IsRoot()) {
      GTEST_SKIP() << "needs root (namespaces, mounts)";
    }
    if (!testing::HaveBusybox()) {
      GTEST_SKIP() << "needs /bin/busybox (busybox-static)";
    }
    auto dir = os::TempDir::Create("comet-runtime-spec-");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<os::TempDir>(std::move(*dir));
    ASSERT_EQ(::chmod(dir_->path().c_str(), 0755), 0);
    bundle_ = dir_->path() + "/bundle";  // holds config.json for the on-disk runs only
    state_ = dir_->path() + "/state";
    ASSERT_TRUE(os::MkdirAll(state_));
    ASSERT_TRUE(testing::MakeBusyboxRootfs(bundle_ + "/rootfs", {"sh", "echo", "true"}));
    global_.root = state_;
  }

  // The default spec running `sh -c script`.
  static oci::Spec Spec(const std::string& script) {
    oci::Spec spec = oci::DefaultSpec(false);
    spec.process->terminal = false;
    spec.process->args = {"sh", "-c", script};
    spec.process->env = {"PATH=/bin"};
    spec.annotations = {{"org.example/a", "1"}};
    return spec;
  }

  [[nodiscard]] CreateOptions Options(const std::string& id, const oci::Spec* spec) const {
    CreateOptions options;
    options.id = id;
    options.bundle = bundle_;
    options.spec = spec;
    return options;
  }

  [[nodiscard]] std::string Saved(const std::string& id) const {
    return os::ReadFile(state_ + "/" + id + "/config.json").value_or("<missing>");
  }

  std::unique_ptr<os::TempDir> dir_;
  std::string bundle_;
  std::string state_;
  GlobalOptions global_;
};

// The same spec from disk and from memory: the same saved config, state and run.
TEST_F(InMemorySpecTest, RunsLikeConfigJson) {
  const oci::Spec spec = Spec("true");
  auto outcome = testing::RunInChild([&]() -> int {
    ::alarm(60);
    CHILD_OK(os::WriteFile(bundle_ + "/config.json", oci::SpecToJson(spec)));
    auto disk_pid = Create(global_, Options("disk", nullptr));
    CHILD_OK(disk_pid);
    ScopeExit delete_disk([&] { (void)Delete(global_, "disk", true); });
    CHILD_OK(os::RemoveAll(bundle_ + "/config.json"));  // memory must not need it
    auto mem_pid = Create(global_, Options("mem", &spec));
    CHILD_OK(mem_pid);
    ScopeExit delete_mem([&] { (void)Delete(global_, "mem", true); });

    CHILD_CHECK(Saved("disk") == Saved("mem"));
    CHILD_CHECK(Saved("mem") == oci::SpecToJson(spec));
    auto disk = GetState(global_, "disk");
    auto mem = GetState(global_, "mem");
    CHILD_OK(disk);
    CHILD_OK(mem);
    // Create returns init's pid, as the state has it.
    CHILD_CHECK(disk->pid == *disk_pid && mem->pid == *mem_pid && *disk_pid != *mem_pid);
    CHILD_CHECK(disk->bundle == mem->bundle && disk->status == "created" &&
                mem->status == "created" && disk->annotations == mem->annotations);
    CHILD_OK(Start(global_, "disk"));
    const oci::Hooks no_hooks;
    CHILD_OK(Start(global_, "mem", &no_hooks));
    CHILD_CHECK(Reap(disk->pid) == 0);
    CHILD_CHECK(Reap(mem->pid) == 0);
    CHILD_OK(Delete(global_, "disk", false));
    CHILD_OK(Delete(global_, "mem", false, &no_hooks));
    delete_disk.Dismiss();
    delete_mem.Dismiss();
    CHILD_CHECK(!os::Exists(state_ + "/mem"));
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// An invalid spec fails in memory with the message it fails with on disk, leaving nothing.
TEST_F(InMemorySpecTest, ValidatedLikeConfigJson) {
  oci::Spec spec = Spec("true");
  spec.linux_config->namespaces.push_back({.type = "bogus", .path = ""});
  auto outcome = testing::RunInChild([&]() -> int {
    CHILD_OK(os::WriteFile(bundle_ + "/config.json", oci::SpecToJson(spec)));
    auto disk = Create(global_, Options("disk", nullptr));
    auto mem = Create(global_, Options("mem", &spec));
    CHILD_CHECK(!disk && !mem);
    std::string disk_error = disk.error().ToString();
    std::string mem_error = mem.error().ToString();
    CHILD_CHECK(disk_error.find("linux.namespaces") != std::string::npos);
    CHILD_CHECK(disk_error.substr(disk_error.find("bundle")) ==
                mem_error.substr(mem_error.find("bundle")));
    CHILD_CHECK(!os::Exists(state_ + "/mem") && !os::Exists(state_ + "/disk"));
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// Start and Delete given the hooks take them as given, not from the saved copy (gone here).
TEST_F(InMemorySpecTest, StartAndDeleteUseTheGivenSpec) {
  oci::Spec spec = Spec("true");
  const std::string marks = dir_->path() + "/marks";
  spec.hooks.emplace();
  oci::Hook hook;
  hook.path = "/bin/sh";
  hook.args = {"sh", "-c", "echo start >> " + marks};
  spec.hooks->poststart = {hook};
  hook.args = {"sh", "-c", "echo stop >> " + marks};
  spec.hooks->poststop = {hook};
  auto outcome = testing::RunInChild([&]() -> int {
    ::alarm(60);
    CHILD_OK(Create(global_, Options("hooks", &spec)));
    ScopeExit cleanup([&] { (void)Delete(global_, "hooks", true); });
    auto state = GetState(global_, "hooks");
    CHILD_OK(state);
    CHILD_OK(os::RemoveAll(state_ + "/hooks/config.json"));
    CHILD_OK(Start(global_, "hooks", &*spec.hooks));
    CHILD_CHECK(Reap(state->pid) == 0);
    CHILD_OK(Delete(global_, "hooks", false, &*spec.hooks));
    cleanup.Dismiss();
    auto text = os::ReadFile(marks);
    CHILD_OK(text);
    CHILD_CHECK(*text == "start\nstop\n");
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

}  // namespace
}  // namespace comet::runtime
