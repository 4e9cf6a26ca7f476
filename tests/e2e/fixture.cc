// RuntimeTest: runtime invocation, state polling and leak checks.
#include "e2e/fixture.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "os/file.h"

namespace comet::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Pids of processes whose root directory is at or below `dir` (container processes).
std::vector<int> ProcessesRootedIn(const std::string& dir) {
  std::vector<int> pids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::error_code link_ec;
    std::string root = fs::read_symlink(entry.path() / "root", link_ec).string();
    if (!link_ec && (root == dir || root.rfind(dir + "/", 0) == 0)) {
      pids.push_back(std::stoi(name));
    }
  }
  return pids;
}

void FindCgroupDirs(const fs::path& dir, const std::string& needle, int depth,
                    std::vector<std::string>* found) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code type_ec;
    if (!entry.is_directory(type_ec) || entry.is_symlink(type_ec)) {
      continue;
    }
    const std::string name = entry.path().filename().string();
    const size_t at = name.find(needle);
    // "e2e-1-1" must not match "e2e-1-12": the id has to end where a digit cannot follow.
    if (at != std::string::npos &&
        (at + needle.size() == name.size() ||
         !std::isdigit(static_cast<unsigned char>(name[at + needle.size()])))) {
      found->push_back(entry.path().string());
    } else if (depth > 0) {
      FindCgroupDirs(entry.path(), needle, depth - 1, found);
    }
  }
}

}  // namespace

std::map<std::string, std::string> ParseKv(const std::string& out) {
  std::map<std::string, std::string> kv;
  std::stringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    auto eq = line.find('=');
    if (eq != std::string::npos) {
      kv[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  return kv;
}

bool MountLine::HasOption(const std::string& option) const {
  std::stringstream all(options + "," + super_options);
  std::string item;
  while (std::getline(all, item, ',')) {
    if (item == option) {
      return true;
    }
  }
  return false;
}

std::vector<MountLine> ParseMounts(const std::string& out) {
  std::vector<MountLine> mounts;
  std::stringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("mount=", 0) != 0) {
      continue;
    }
    std::stringstream fields(line.substr(6));
    MountLine m;
    fields >> m.target >> m.fstype >> m.options >> m.super_options >> m.propagation;
    mounts.push_back(m);
  }
  return mounts;
}

const MountLine* FindMount(const std::vector<MountLine>& mounts, const std::string& target) {
  const MountLine* found = nullptr;
  for (const auto& m : mounts) {
    if (m.target == target) {
      found = &m;
    }
  }
  return found;
}

std::vector<std::string> V1Controllers() {
  std::vector<std::string> controllers;
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    auto dash = line.find(" - cgroup ");
    if (dash == std::string::npos) {
      continue;
    }
    std::stringstream fields(line);
    std::string id;
    std::string parent;
    std::string devno;
    std::string root;
    std::string target;
    fields >> id >> parent >> devno >> root >> target;
    if (target.rfind("/sys/fs/cgroup/", 0) == 0) {
      controllers.push_back(target.substr(strlen("/sys/fs/cgroup/")));
    }
  }
  return controllers;
}

void RuntimeTest::SetUp() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/comet-e2e-root-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  state_root_ = pattern;
  fs::create_directories(work_dir());
}

void RuntimeTest::TearDown() {
  for (const auto& id : ids_) {
    Runtime({"kill", id, "KILL"}, {.timeout = std::chrono::seconds(10)});
    Runtime({"delete", "--force", id}, {.timeout = std::chrono::seconds(20)});
    EXPECT_FALSE(fs::exists(state_root_ + "/" + id)) << "state of " << id << " left behind";
  }
  for (const auto& dir : bundle_dirs_) {
    for (int attempt = 0; attempt < 50 && !ProcessesRootedIn(dir).empty(); ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (int pid : ProcessesRootedIn(dir)) {
      ADD_FAILURE() << "process " << pid << " of bundle " << dir << " left running";
      ::kill(pid, SIGKILL);
    }
  }
  bundles_.clear();
  for (const auto& dir : bundle_dirs_) {
    EXPECT_TRUE(MountsUnder(dir).empty()) << "mounts left under " << dir;
  }
  (void)os::RemoveAll(work_dir());
  (void)os::RemoveAll(state_root_);
}

std::string RuntimeTest::NewId() {
  static int counter = 0;
  return "e2e-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

Bundle& RuntimeTest::NewBundle(const std::vector<std::string>& args, const BundleOptions& options) {
  bundles_.push_back(Bundle::Create(args, options));
  bundle_dirs_.push_back(bundles_.back()->dir());
  return *bundles_.back();
}

ProcResult RuntimeTest::Runtime(const std::vector<std::string>& args, const ProcOptions& options) {
  std::vector<std::string> argv = {RuntimePath(), "--root", state_root_};
  argv.insert(argv.end(), args.begin(), args.end());
  return Exec(argv, options);
}

ProcResult RuntimeTest::Run(const Bundle& bundle, const std::string& id,
                            const std::vector<std::string>& extra, const ProcOptions& options) {
  ids_.push_back(id);
  std::vector<std::string> args = {"run", "--bundle", bundle.dir()};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(id);
  return Runtime(args, options);
}

ProcResult RuntimeTest::Create(const Bundle& bundle, const std::string& id,
                               const std::vector<std::string>& extra, ProcOptions options) {
  ids_.push_back(id);
  std::vector<std::string> args = {"create", "--bundle", bundle.dir()};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(id);
  options.output_path = work_dir() + "/" + id + ".out";
  return Runtime(args, options);
}

std::string RuntimeTest::OutputOf(const std::string& id) const {
  return ReadFileOrEmpty(work_dir() + "/" + id + ".out");
}

json RuntimeTest::State(const std::string& id) {
  ProcResult r = Runtime({"state", id});
  if (!r.ok()) {
    return nullptr;
  }
  return json::parse(r.out, nullptr, /*allow_exceptions=*/false);
}

json RuntimeTest::WaitForStatus(const std::string& id, const std::string& status, int timeout_ms) {
  json state;
  for (int waited = 0; waited <= timeout_ms; waited += 20) {
    state = State(id);
    if (state.is_object() && state.value("status", "") == status) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return state;
}

std::map<std::string, std::string> RuntimeTest::RunChecker(Bundle& bundle) {
  bundle.Write();
  ProcResult r = Run(bundle, NewId());
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  return ParseKv(r.out);
}

void RuntimeTest::ExpectNothingLeft(const std::string& id, const Bundle& bundle,
                                    const std::string& cgroup_path) {
  EXPECT_FALSE(fs::exists(state_root_ + "/" + id)) << "state dir of " << id << " left";
  for (const auto& controller : V1Controllers()) {
    const std::string base = "/sys/fs/cgroup/" + controller;
    if (!cgroup_path.empty()) {
      EXPECT_FALSE(fs::exists(base + cgroup_path)) << "cgroup left: " << base + cgroup_path;
    }
    std::vector<std::string> found;
    FindCgroupDirs(base, id, 3, &found);
    for (const auto& dir : found) {
      ADD_FAILURE() << "cgroup left: " << dir;
    }
  }
  EXPECT_TRUE(MountsUnder(bundle.dir()).empty()) << "mount left under " << bundle.dir();
  for (int attempt = 0; attempt < 50 && !ProcessesRootedIn(bundle.dir()).empty(); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(ProcessesRootedIn(bundle.dir()).empty()) << "process left in " << bundle.dir();
}

void PrivilegedRuntimeTest::SetUp() {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root (CI runs these as root)";
  }
  RuntimeTest::SetUp();
}

}  // namespace comet::e2e
