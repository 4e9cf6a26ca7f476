// The store is an OCI image layout: skopeo (containers/image) reads our images by name.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "image/store.h"
#include "image/store_test_util.h"
#include "os/file.h"

namespace comet::image {
namespace {

// Runs argv, returning its exit status (output to the test's stderr).
int RunCommand(const std::vector<std::string>& argv) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& arg : argv) {
      args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) {
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(StoreSkopeo, CopiesOurImagesByName) {
  if (::access("/usr/bin/skopeo", X_OK) != 0) {
    GTEST_SKIP() << "skopeo is not installed";
  }
  auto t = testing::MakeTestStore();
  const auto img = testing::PutTestImage(t.store, "skopeo", {"localhost:5000/app:1"});
  testing::PutTestImage(t.store, "other", {"busybox"});
  const std::string out = os::JoinPath(t.dir.path(), "out");
  ASSERT_EQ(RunCommand({"skopeo", "--insecure-policy", "copy", "--quiet",
                        "oci:" + t.store.root() + ":localhost:5000/app:1", "dir:" + out}),
            0);
  const auto manifest = nlohmann::json::parse(*os::ReadFile(os::JoinPath(out, "manifest.json")));
  EXPECT_EQ(manifest["config"]["digest"], img.config.ToString());
  EXPECT_EQ(*os::ReadFile(os::JoinPath(out, img.layer.hex())), img.layer_tar);

  // And the other way: skopeo writes an image layout that is ours too.
  const std::string out2 = os::JoinPath(t.dir.path(), "out2");
  ASSERT_EQ(RunCommand({"skopeo", "--insecure-policy", "copy", "--quiet",
                        "oci:" + t.store.root() + ":docker.io/library/busybox:latest",
                        "oci:" + out2 + ":x"}),
            0);
  EXPECT_TRUE(std::filesystem::exists(os::JoinPath(out2, "index.json")));
}

}  // namespace
}  // namespace comet::image
