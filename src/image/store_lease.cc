// Leases: files under leases/ listing digests (one per line) that gc must keep. Named leases
// persist until released; temporary ones are flocked by their owner and die with it.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "base/strings.h"
#include "image/store.h"
#include "image/store_internal.h"
#include "os/file.h"

namespace comet::image {
namespace si = store_internal;

struct Lease::State {
  std::string root;
  std::string name;
  std::string path;
  bool temporary = false;
  bool durable = true;
  os::UniqueFd fd;  // temporary leases: the flocked file
};

Lease::Lease(std::unique_ptr<State> state) : state_(std::move(state)) {}
Lease::Lease(Lease&&) noexcept = default;
Lease& Lease::operator=(Lease&&) noexcept = default;

Lease::~Lease() {
  if (state_ && state_->temporary && state_->fd) {
    ::unlink(state_->path.c_str());  // while still flocked, so gc never sees it half-dead
  }
}

const std::string& Lease::name() const {
  return state_->name;
}

Status Lease::Add(const std::vector<Digest>& digests) {
  std::string lines;
  for (const Digest& d : digests) {
    lines += d.ToString() + "\n";
  }
  // Under the store lock: a gc either saw these digests or finished before we wrote them.
  ASSIGN_OR_RETURN(os::UniqueFd lock, si::LockStore(state_->root));
  os::UniqueFd named;
  int fd = state_->fd.get();
  if (!state_->temporary) {
    ASSIGN_OR_RETURN(named, os::Open(state_->path, O_WRONLY | O_APPEND | O_CREAT, 0600));
    fd = named.get();
  }
  RETURN_IF_ERROR_CTX(os::WriteAll(fd, lines), "lease " + state_->path);
  if (state_->durable && ::fsync(fd) != 0) {
    return Err(Error::FromErrno("fsync", state_->path));
  }
  return Ok();
}

Result<Lease> Store::AcquireLease(std::string_view name, Durability durability) const {
  RETURN_IF_ERROR(si::ValidateLeaseName(name));
  auto state = std::make_unique<Lease::State>();
  state->durable = durability == Durability::kDurable;
  state->root = root();
  state->name = std::string(name);
  state->path = os::JoinPath(si::LeasesDir(root()), state->name);
  ASSIGN_OR_RETURN(os::UniqueFd lock, si::LockStore(root()));
  ASSIGN_OR_RETURN(os::UniqueFd fd, os::Open(state->path, O_WRONLY | O_APPEND | O_CREAT, 0600));
  if (state->durable) {
    RETURN_IF_ERROR(si::FsyncDir(si::LeasesDir(root())));
  }
  return Lease(std::move(state));
}

Status Store::ReleaseLease(std::string_view name) const {
  return ReleaseStoreLease(root(), name);
}

Result<Lease> Store::TemporaryLease() const {
  auto state = std::make_unique<Lease::State>();
  state->root = root();
  state->temporary = true;
  state->name = "tmp-" + si::RandomHex(8);
  state->path = os::JoinPath(si::LeasesDir(root()), state->name);
  // Created and flocked under the store lock, so gc never finds it unlocked.
  ASSIGN_OR_RETURN(os::UniqueFd lock, si::LockStore(root()));
  ASSIGN_OR_RETURN(state->fd, os::Open(state->path, O_RDWR | O_APPEND | O_CREAT | O_EXCL, 0600));
  if (::flock(state->fd.get(), LOCK_EX | LOCK_NB) != 0) {
    const auto err = Error::FromErrno("flock", state->path);
    ::unlink(state->path.c_str());
    return Err(err);
  }
  return Lease(std::move(state));
}

namespace store_internal {

namespace {

std::vector<Digest> ParseLeaseFile(const std::string& text) {
  std::vector<Digest> digests;
  for (const std::string& line : Split(text, '\n')) {
    // A torn last line (crash mid-append) is skipped; the owner re-adds what it needs.
    if (auto d = Digest::Parse(TrimSpace(line))) {
      digests.push_back(std::move(*d));
    }
  }
  return digests;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return names;
  }
  while (struct dirent* entry = ::readdir(d)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

Result<std::vector<LeaseInfo>> ReadLeases(const std::string& root, bool remove_dead) {
  const std::string dir = LeasesDir(root);
  std::vector<LeaseInfo> leases;
  for (const std::string& name : ListDir(dir)) {
    const std::string path = os::JoinPath(dir, name);
    if (name.front() == '.') {
      continue;
    }
    LeaseInfo info{.name = name, .temporary = name.starts_with("tmp-"), .digests = {}};
    if (info.temporary) {
      auto fd = os::Open(path, O_RDONLY);
      if (!fd) {
        continue;  // released meanwhile
      }
      if (::flock(fd->get(), LOCK_EX | LOCK_NB) == 0) {  // its owner is gone
        if (remove_dead) {
          ::unlink(path.c_str());
        }
        continue;
      }
      ASSIGN_OR_RETURN(std::string text, os::ReadFd(fd->get(), 64U << 20U));
      info.digests = ParseLeaseFile(text);
    } else {
      auto text = os::ReadFileLimited(path, 64U << 20U);
      if (!text) {
        if (text.error().code() == ENOENT) {
          continue;
        }
        return Err(std::move(text).error());
      }
      info.digests = ParseLeaseFile(*text);
    }
    leases.push_back(std::move(info));
  }
  return leases;
}

const LeaseInfo* LeaseHolding(const std::vector<LeaseInfo>& leases, const ImageRecord& image) {
  for (const LeaseInfo& lease : leases) {
    for (const Digest& d : lease.digests) {
      if (d == image.manifest_digest || d == image.config_digest ||
          std::find(image.repo_digests.begin(), image.repo_digests.end(), d) !=
              image.repo_digests.end()) {
        return &lease;
      }
    }
  }
  return nullptr;
}

}  // namespace store_internal
}  // namespace comet::image
