// Mount points below a directory, from mountinfo; see mount_table.h.
#include "pod/mount_table.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>

#include "base/strings.h"
#include "os/file.h"

namespace comet::pod::internal {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo (proc(5)).
std::string DecodeOctal(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      std::string_view digits = text.substr(i + 1, 3);
      bool octal =
          std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '7'; });
      if (octal) {
        out += static_cast<char>(((digits[0] - '0') << 6) | ((digits[1] - '0') << 3) |
                                 (digits[2] - '0'));
        i += 3;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

bool IsAtOrBelow(std::string_view path, std::string_view dir) {
  if (dir == "/") {
    return true;
  }
  return path == dir ||
         (StartsWith(path, dir) && path.size() > dir.size() && path[dir.size()] == '/');
}

}  // namespace

std::vector<std::string> MountPointsUnder(std::string_view mountinfo, std::string_view dir) {
  std::vector<std::string> found;
  for (const std::string& line : Split(mountinfo, '\n')) {
    // id parent major:minor root mount-point options ...
    std::vector<std::string> fields = Split(line, ' ');
    if (fields.size() < 5) {
      continue;
    }
    std::string point = DecodeOctal(fields[4]);
    if (IsAtOrBelow(point, dir)) {
      found.push_back(std::move(point));
    }
  }
  // Deepest first; among equals, later mounts (on top) first, since mountinfo lists in
  // mount order.
  std::reverse(found.begin(), found.end());
  auto depth = [](const std::string& path) {
    return path == "/" ? 0 : std::count(path.begin(), path.end(), '/');
  };
  std::stable_sort(found.begin(), found.end(),
                   [&](const std::string& a, const std::string& b) { return depth(a) > depth(b); });
  return found;
}

Result<std::vector<std::string>> CurrentMountPointsUnder(const std::string& dir) {
  std::unique_ptr<char, decltype(&std::free)> real(realpath(dir.c_str(), nullptr), &std::free);
  if (real == nullptr) {
    return Err(Error::FromErrno("realpath", dir));
  }
  ASSIGN_OR_RETURN(std::string text, os::ReadFile("/proc/self/mountinfo"));
  return MountPointsUnder(text, real.get());
}

}  // namespace comet::pod::internal
