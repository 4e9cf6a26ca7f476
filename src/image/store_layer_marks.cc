// Layer trees are published without fsyncing the files they hold (that would cost as much as
// unpacking them). Instead each new tree is marked with the id of the boot that wrote it: within
// that boot the page cache makes the tree complete, and a later boot that still finds the mark
// (the machine went down before the data was flushed) throws the tree away and unpacks it again
// from its verified blob. gc flushes the filesystem once and clears the marks of this boot.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <fmt/format.h>

#include "base/log.h"
#include "base/strings.h"
#include "image/store_internal.h"
#include "os/file.h"

namespace comet::image::store_internal {
namespace {

constexpr std::string_view kMarkSuffix = ".unsynced";

std::string MarkPath(const std::string& tree) {
  return tree + std::string(kMarkSuffix);
}

std::string ReadMark(const std::string& tree) {
  auto text = os::ReadFileLimited(MarkPath(tree), 256);
  return text ? std::string(TrimSpace(*text)) : std::string();
}

}  // namespace

std::string CurrentBootId() {
  // Read once: the boot id cannot change while we run.
  static const std::string kBootId = [] {
    auto text = os::ReadFileLimited("/proc/sys/kernel/random/boot_id", 256);
    return text ? std::string(TrimSpace(*text)) : std::string("unknown");
  }();
  return kBootId;
}

Status MarkLayerUnsynced(const std::string& tree) {
  // WriteFileAtomic fsyncs the mark, so it reaches the disk before the tree's rename does.
  return os::WriteFileAtomic(MarkPath(tree), CurrentBootId() + "\n", 0600);
}

bool LayerTreeSuspect(const std::string& tree) {
  const std::string mark = ReadMark(tree);
  return !mark.empty() && mark != CurrentBootId();
}

Status DiscardLayerTree(const std::string& root, const std::string& tree) {
  const std::string doomed = os::JoinPath(LayersTmpDir(root), "gc-" + RandomHex(8));
  if (::rename(tree.c_str(), doomed.c_str()) != 0 && errno != ENOENT) {
    return Err(Error::FromErrno("rename", tree));
  }
  ::unlink(MarkPath(tree).c_str());
  (void)RemoveTree(doomed);
  return Ok();
}

void SettleLayerMarks(const std::string& root, bool dry_run) {
  if (dry_run) {
    return;
  }
  const std::string layers = os::JoinPath(root, "layers");
  bool synced = false;
  for (const char* algorithm : {"sha256", "sha512"}) {
    const std::string dir = os::JoinPath(layers, algorithm);
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      continue;
    }
    std::vector<std::string> marks;
    while (const dirent* entry = ::readdir(d)) {
      const std::string_view name = entry->d_name;
      if (name.ends_with(kMarkSuffix)) {
        marks.emplace_back(name);
      }
    }
    ::closedir(d);
    for (const std::string& name : marks) {
      const std::string tree = os::JoinPath(dir, name.substr(0, name.size() - kMarkSuffix.size()));
      auto lock = LockFile(tree + ".lock", /*wait=*/false);
      if (!lock) {
        continue;  // being filled right now
      }
      if (LayerTreeSuspect(tree)) {
        (void)DiscardLayerTree(root, tree);
      } else {
        if (!synced) {
          auto fd = os::Open(root, O_RDONLY | O_DIRECTORY);
          if (!fd || ::syncfs(fd->get()) != 0) {
            log::Warning("image store: syncfs {} failed; layer trees stay marked unsynced", root);
            return;
          }
          synced = true;
        }
        ::unlink(MarkPath(tree).c_str());
      }
      ::unlink((tree + ".lock").c_str());
    }
  }
}

}  // namespace comet::image::store_internal
