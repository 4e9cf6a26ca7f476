// End-to-end: bad bundles. Each must fail with a non-zero exit and a message naming the field
// and the bundle, and leave nothing behind: no state dir, cgroup, mount or process.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "e2e/fixture.h"

namespace comet::e2e {
namespace {

namespace fs = std::filesystem;

bool ContainsIgnoringCase(std::string haystack, std::string needle) {
  for (auto* s : {&haystack, &needle}) {
    std::transform(s->begin(), s->end(), s->begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  return haystack.find(needle) != std::string::npos;
}

class BadInput : public PrivilegedRuntimeTest {
 protected:
  // Runs `bundle` (with a cgroupsPath, so that a leaked cgroup is seen) and checks the failure.
  ProcResult RunExpectingFailure(Bundle& bundle, const std::vector<std::string>& mentions) {
    const std::string id = NewId();
    if (bundle.config().is_object()) {
      bundle.linux_section()["cgroupsPath"] = "/comet-" + id;
      bundle.Write();
    }
    ProcResult r = Run(bundle, id);
    EXPECT_NE(r.exit_code, 0) << r.Describe();
    EXPECT_FALSE(r.err.empty()) << "no error message";
    for (const auto& needle : mentions) {
      EXPECT_TRUE(ContainsIgnoringCase(r.err, needle))
          << "the message should name " << needle << ":\n"
          << r.err;
    }
    ExpectNothingLeft(id, bundle, "/comet-" + id);
    return r;
  }
  // The bundle path or its config.json: either names the bundle. Peers do not: skipped there.
  static void ExpectNamesBundle(const ProcResult& r, const Bundle& bundle) {
    if (RuntimeName() == "crun" || RuntimeName() == "runc") {
      return;
    }
    EXPECT_TRUE(r.err.find(bundle.dir()) != std::string::npos ||
                r.err.find("config.json") != std::string::npos)
        << "the message should name the bundle:\n"
        << r.err;
  }
};

TEST_F(BadInput, MalformedJson) {
  Bundle& bundle = NewBundle({"/bin/true"});
  WriteFileOrDie(bundle.dir() + "/config.json", R"({"ociVersion": "1.0.2", "process": )");
  bundle.config() = nullptr;  // keep the broken file
  ProcResult r = RunExpectingFailure(bundle, {});
  ExpectNamesBundle(r, bundle);
}

TEST_F(BadInput, UnknownNamespaceType) {
  Bundle& bundle = NewBundle({"/bin/true"});
  bundle.SetNamespace("bogus");
  ProcResult r = RunExpectingFailure(bundle, {"bogus"});
  ExpectNamesBundle(r, bundle);
}

TEST_F(BadInput, MissingRootfs) {
  Bundle& bundle = NewBundle({"/bin/true"});
  bundle.config()["root"]["path"] = "no-such-rootfs";
  ProcResult r = RunExpectingFailure(bundle, {"no-such-rootfs"});
  ExpectNamesBundle(r, bundle);
}

TEST_F(BadInput, BadUidMapping) {
  Bundle& bundle = NewBundle({"/bin/true"});
  bundle.SetNamespace("user");
  bundle.linux_section()["uidMappings"] = {{{"containerID", 0}, {"hostID", 0}, {"size", 0}}};
  bundle.linux_section()["gidMappings"] = {{{"containerID", 0}, {"hostID", 0}, {"size", 1}}};
  ProcResult r = RunExpectingFailure(bundle, {});
  SKIP_ON_RUNTIME("runc", "its message does not name the field");
  EXPECT_TRUE(r.err.find("uidMappings") != std::string::npos ||
              r.err.find("uid_map") != std::string::npos)
      << r.err;
}

TEST_F(BadInput, MissingExecutable) {
  Bundle& bundle = NewBundle({"/no/such/binary"});
  RunExpectingFailure(bundle, {"/no/such/binary"});
}

TEST_F(BadInput, RelativeCwd) {
  SKIP_ON_RUNTIME("crun", "it accepts a relative cwd (the spec says it MUST be absolute)");
  Bundle& bundle = NewBundle({"/bin/true"});
  bundle.process()["cwd"] = "relative/dir";
  RunExpectingFailure(bundle, {"cwd"});
}

TEST_F(BadInput, DuplicateIdKeepsTheFirst) {
  Bundle& bundle = NewBundle({"/bin/checker", "sleep", "100"});
  const std::string id = NewId();
  ASSERT_TRUE(Create(bundle, id).ok()) << OutputOf(id);
  ProcResult again = Create(bundle, id);
  EXPECT_NE(again.exit_code, 0);
  EXPECT_EQ(State(id)["status"], "created") << "the first container is untouched";
}

// A destination with ".." must stay inside the rootfs: the runtime either rejects it or
// resolves it within the rootfs; nothing may appear on the host.
TEST_F(BadInput, MountDestinationEscapingWithDotDot) {
  Bundle& bundle = NewBundle({"/bin/true"});
  const std::string name = "comet-e2e-escape-" + std::to_string(::getpid());
  bundle.AddMount(
      {{"destination", "/../../../../../../../" + name}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  bundle.Write();
  const std::string id = NewId();
  ProcResult r = Run(bundle, id);
  EXPECT_FALSE(fs::exists("/" + name)) << "the mount escaped the rootfs";
  ::rmdir(("/" + name).c_str());
  ExpectNothingLeft(id, bundle);
  SKIP_ON_RUNTIME("crun", "it resolves the path inside the rootfs and runs");
  SKIP_ON_RUNTIME("runc", "it resolves the path inside the rootfs and runs");
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.err.find("destination"), std::string::npos) << r.err;
}

TEST_F(BadInput, MountDestinationEscapingWithSymlink) {
  Bundle& bundle = NewBundle({"/bin/true"});
  const std::string outside = bundle.scratch() + "/outside";
  fs::create_directories(outside);
  fs::create_symlink("../../../../../../../../.." + outside, bundle.rootfs() + "/evil");
  bundle.AddMount({{"destination", "/evil/sub"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  bundle.Write();
  const std::string id = NewId();
  ProcResult r = Run(bundle, id);
  EXPECT_FALSE(fs::exists(outside + "/sub")) << "the mount followed the symlink out of the rootfs";
  ExpectNothingLeft(id, bundle);
  SKIP_ON_RUNTIME("crun", "it resolves the symlink inside the rootfs and runs");
  SKIP_ON_RUNTIME("runc", "it resolves the symlink inside the rootfs and runs");
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.err.find("/evil/sub"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace comet::e2e
