// Lexical walk of a destination inside the rootfs, following the rootfs's own symlinks.
#include "runtime/linux/rootfs_escape.h"

#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <vector>

#include <fmt/format.h>

#include "base/strings.h"

namespace comet::runtime {
namespace {

constexpr int kMaxSymlinks = 40;  // as the kernel's path walk (MAXSYMLINKS)

void PushFront(std::deque<std::string>& pending, const std::string& path) {
  std::vector<std::string> parts = Split(path, '/');
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    pending.push_front(*it);
  }
}

std::string Joined(const std::string& rootfs, const std::vector<std::string>& stack) {
  std::string out = rootfs;
  for (const std::string& part : stack) {
    out += '/';
    out += part;
  }
  return out;
}

}  // namespace

Status CheckStaysInRoot(const std::string& rootfs, const std::string& path,
                        const std::string& field) {
  std::deque<std::string> pending;
  PushFront(pending, path);
  std::vector<std::string> stack;  // components resolved so far, below the rootfs
  int links = 0;
  std::string via;  // the symlink that took the walk where it is, for the message
  while (!pending.empty()) {
    std::string part = std::move(pending.front());
    pending.pop_front();
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      if (stack.empty()) {
        return Err(Error::Invalid(
            fmt::format("{} \"{}\": escapes the container's root{}", field, path, via)));
      }
      stack.pop_back();
      continue;
    }
    std::string candidate = Joined(rootfs, stack) + "/" + part;
    struct stat st {};
    if (::lstat(candidate.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) {
      stack.push_back(std::move(part));  // a directory, a file, or not there (yet)
      continue;
    }
    if (++links > kMaxSymlinks) {
      return Err(Error(ELOOP, fmt::format("{} \"{}\": too many symlinks", field, path)));
    }
    char target[4096];
    ssize_t n = ::readlink(candidate.c_str(), target, sizeof(target) - 1);
    if (n < 0) {
      return Err(Error::FromErrno("readlink", candidate));
    }
    target[n] = '\0';
    via = fmt::format(" through the symlink /{} -> {}",
                      Join(stack, "/") + (stack.empty() ? "" : "/") + part, target);
    if (target[0] == '/') {
      stack.clear();  // absolute targets point into the container's own root
    }
    PushFront(pending, target);
  }
  return Ok();
}

}  // namespace comet::runtime
