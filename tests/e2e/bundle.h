// Bundle: an OCI bundle in a fresh temp dir (busybox + checker rootfs, config.json built with
// nlohmann::json) for end-to-end runtime tests; removed with everything under it. Not thread-safe.
#ifndef COMET_TESTS_E2E_BUNDLE_H_
#define COMET_TESTS_E2E_BUNDLE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace comet::e2e {

// Paths of the programs under test, from the environment or the build.
std::string RuntimePath();  // $COMET_RUNTIME, else comet-runtime from the build, else crun
std::string CheckerPath();  // $COMET_CHECKER, else the checker target
// "crun", "runc", "comet-runtime": the basename of RuntimePath().
std::string RuntimeName();

struct BundleOptions {
  bool rootless = false;  // user namespace mapping container 0 to the caller's ids
};

class Bundle {
 public:
  // A bundle whose process runs `args` (e.g. {"/bin/checker", "ids"}).
  static std::unique_ptr<Bundle> Create(const std::vector<std::string>& args,
                                        const BundleOptions& options = {});
  ~Bundle();
  Bundle(const Bundle&) = delete;
  Bundle& operator=(const Bundle&) = delete;
  Bundle(Bundle&&) = delete;
  Bundle& operator=(Bundle&&) = delete;

  nlohmann::json& config() { return config_; }
  nlohmann::json& process() { return config_["process"]; }
  nlohmann::json& linux_section() { return config_["linux"]; }
  void SetArgs(const std::vector<std::string>& args) { process()["args"] = args; }
  void AddMount(const nlohmann::json& mount) { config_["mounts"].push_back(mount); }
  // Removes the namespace of `type` from linux.namespaces (if present).
  void RemoveNamespace(const std::string& type);
  // Adds or replaces the namespace of `type`, optionally joining `path`.
  void SetNamespace(const std::string& type, const std::string& path = "");
  // Writes config.json; call after every change and before the runtime reads it.
  void Write() const;

  const std::string& dir() const { return dir_; }
  std::string rootfs() const { return dir_ + "/rootfs"; }
  // A scratch directory beside the bundle (outside the rootfs) for host-side files.
  std::string scratch() const { return dir_ + "/scratch"; }

 private:
  explicit Bundle(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  nlohmann::json config_;
};

// The default config (runc spec semantics, not read-only, terminal false).
nlohmann::json DefaultConfig(const std::vector<std::string>& args, const BundleOptions& options);

// Mount points at or below `dir` in this mount namespace.
std::vector<std::string> MountsUnder(const std::string& dir);
// Unmounts (lazily) every mount at or below `dir` in this mount namespace and removes the tree.
// Returns the mount points found, so that callers can flag them as leaks.
std::vector<std::string> DetachAndRemove(const std::string& dir);

}  // namespace comet::e2e

#endif  // COMET_TESTS_E2E_BUNDLE_H_
