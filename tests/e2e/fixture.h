// RuntimeTest: the gtest fixture of the end-to-end runtime tests. Each test gets its own --root
// state dir; every container it creates is force-deleted at the end and the test fails if a
// state dir, cgroup, mount or process of it is left behind. Not thread-safe.
#ifndef COMET_TESTS_E2E_FIXTURE_H_
#define COMET_TESTS_E2E_FIXTURE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/bundle.h"
#include "e2e/subprocess.h"

namespace comet::e2e {

// `key=value` lines of checker output; the last value of a repeated key wins.
std::map<std::string, std::string> ParseKv(const std::string& out);

// One `mount=` line of `checker mounts`.
struct MountLine {
  std::string target, fstype, options, super_options, propagation;
  [[nodiscard]] bool HasOption(const std::string& option) const;
};
std::vector<MountLine> ParseMounts(const std::string& out);
// The last (topmost) mount at `target`, or nullptr.
const MountLine* FindMount(const std::vector<MountLine>& mounts, const std::string& target);

// The cgroup v1 controllers mounted under /sys/fs/cgroup (memory, pids, ...).
std::vector<std::string> V1Controllers();

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A container id unique to this test process.
  static std::string NewId();
  // A bundle owned by the fixture: removed in TearDown, after its containers are deleted.
  Bundle& NewBundle(const std::vector<std::string>& args, const BundleOptions& options = {});

  // `<runtime> --root <state> args...`.
  ProcResult Runtime(const std::vector<std::string>& args, const ProcOptions& options = {});
  // `run --bundle`; stdout/stderr captured in memory. Tracks `id` for cleanup.
  ProcResult Run(const Bundle& bundle, const std::string& id,
                 const std::vector<std::string>& extra = {}, const ProcOptions& options = {});
  // `create --bundle`; the container's output goes to OutputOf(id). Tracks `id`.
  ProcResult Create(const Bundle& bundle, const std::string& id,
                    const std::vector<std::string>& extra = {}, ProcOptions options = {});
  // Output written so far by a container started with Create (and by the create command).
  std::string OutputOf(const std::string& id) const;
  // Parsed `state <id>`; a null json when the command fails.
  nlohmann::json State(const std::string& id);
  // Polls State until status == `status` or `timeout_ms` passes; returns the last state.
  nlohmann::json WaitForStatus(const std::string& id, const std::string& status,
                               int timeout_ms = 10000);

  // Runs `bundle` to completion and returns the checker's output parsed as key=value, failing
  // the test if run fails.
  std::map<std::string, std::string> RunChecker(Bundle& bundle);

  // Fails the test when anything of `id` is left: a state dir under the root, a cgroup (named
  // by `cgroup_path`, or any cgroup dir whose name contains the id), a mount below the bundle, a
  // process whose root is the bundle's rootfs.
  void ExpectNothingLeft(const std::string& id, const Bundle& bundle,
                         const std::string& cgroup_path = "");

  const std::string& state_root() const { return state_root_; }
  std::string work_dir() const { return state_root_ + "-work"; }

 private:
  std::string state_root_;
  std::vector<std::string> ids_;
  std::vector<std::string> bundle_dirs_;
  std::vector<std::unique_ptr<Bundle>> bundles_;
};

// Skips the test when the runtime under test is `peer` (e.g. "crun"): for behaviour that the
// peer lacks or gets wrong on this machine. comet-runtime must pass these.
#define SKIP_ON_RUNTIME(peer, reason)                        \
  do {                                                       \
    if (::comet::e2e::RuntimeName() == (peer)) {             \
      GTEST_SKIP() << (peer) << " lacks this: " << (reason); \
    }                                                        \
  } while (false)

// Root-only tests: skip (with the reason) when not root. CI runs as root, so they run there.
class PrivilegedRuntimeTest : public RuntimeTest {
 protected:
  void SetUp() override;
};

}  // namespace comet::e2e

#endif  // COMET_TESTS_E2E_FIXTURE_H_
