// Test-only: builds fake cgroupfs trees (directories of small files) in a temp dir, since this
// machine's real hierarchy is v1 and a v2 controller tree cannot be had here. Not thread-safe.
#ifndef COMET_CGROUP_FAKE_TREE_H_
#define COMET_CGROUP_FAKE_TREE_H_

#include <map>
#include <string>

#include <gtest/gtest.h>

#include "os/file.h"

namespace comet::cgroup::testing {

// Creates `dir` (and parents) holding `files` (name -> initial content).
inline void MakeGroup(const std::string& dir, const std::map<std::string, std::string>& files) {
  ASSERT_TRUE(os::MkdirAll(dir));
  for (const auto& [name, content] : files) {
    ASSERT_TRUE(os::WriteFile(os::JoinPath(dir, name), content)) << name;
  }
}

// The content of dir/file, or "<missing>".
inline std::string Read(const std::string& dir, const std::string& file) {
  auto data = os::ReadFile(os::JoinPath(dir, file));
  return data ? *data : "<missing>";
}

}  // namespace comet::cgroup::testing

#endif  // COMET_CGROUP_FAKE_TREE_H_
