// BlobWriter: streaming a blob into ingest/, resumable across crashes, verified and published by
// an fsync'ed rename into blobs/.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "image/store.h"
#include "image/store_internal.h"
#include "os/file.h"

namespace comet::image {
namespace si = store_internal;

struct BlobWriter::State {
  std::string root;
  std::string blob_dir;  // blobs/<algorithm>
  std::optional<Digest> expected;
  int64_t expected_size = -1;
  std::string lock_path;  // empty for unknown digests (the partial file itself is flocked)
  os::UniqueFd lock;
  std::string partial_path;
  os::UniqueFd fd;
  Hasher hasher;
  uint64_t offset = 0;
  bool done = false;
  bool finished = false;  // committed or discarded: the partial file is gone

  [[nodiscard]] std::string Name() const {
    return expected ? expected->ToString() : std::string("blob of unknown digest");
  }
};

BlobWriter::BlobWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
BlobWriter::BlobWriter(BlobWriter&&) noexcept = default;
BlobWriter& BlobWriter::operator=(BlobWriter&&) noexcept = default;

BlobWriter::~BlobWriter() {
  if (!state_) {
    return;
  }
  state_->fd.Reset();
  if (!state_->lock_path.empty() && state_->lock) {
    // Unlinking a held lock file is safe: LockFile re-takes the lock on a replaced inode.
    ::unlink(state_->lock_path.c_str());
  }
}

bool BlobWriter::done() const {
  return state_->done;
}
uint64_t BlobWriter::offset() const {
  return state_->offset;
}

Status BlobWriter::Restart() {
  State& s = *state_;
  if (s.done || s.finished) {
    return Err(Error::Invalid("blob writer: restart after the blob was stored"));
  }
  if (::ftruncate(s.fd.get(), 0) != 0) {
    return Err(Error::FromErrno("truncate", s.partial_path));
  }
  s.hasher = Hasher(s.expected ? std::string_view(s.expected->algorithm()) : "sha256");
  s.offset = 0;
  return Ok();
}

Status BlobWriter::Write(std::string_view data) {
  State& s = *state_;
  if (s.done || s.finished) {
    return Err(Error::Invalid("blob writer: write after the blob was stored"));
  }
  if (s.expected_size >= 0 && s.offset + data.size() > static_cast<uint64_t>(s.expected_size)) {
    return Err(Error(
        EFBIG, fmt::format("{}: more data than the expected {} bytes", s.Name(), s.expected_size)));
  }
  RETURN_IF_ERROR_CTX(os::WriteAll(s.fd.get(), data), s.partial_path);
  s.hasher.Update(data);
  s.offset += data.size();
  return Ok();
}

void BlobWriter::Discard() {
  State& s = *state_;
  if (s.finished || s.done) {
    return;
  }
  ::unlink(s.partial_path.c_str());
  s.finished = true;
}

Result<Digest> BlobWriter::Commit(Lease* lease) {
  State& s = *state_;
  if (s.done) {
    // The ingest lock we hold keeps gc off the stored blob until the lease has it.
    if (lease != nullptr) {
      RETURN_IF_ERROR(lease->Add({*s.expected}));
    }
    return *s.expected;
  }
  if (s.finished) {
    return Err(Error::Invalid("blob writer: commit after commit or discard"));
  }
  if (s.expected_size >= 0 && s.offset != static_cast<uint64_t>(s.expected_size)) {
    // Short: keep the partial file, a later attempt resumes from it.
    return Err(Error(
        EIO, fmt::format("{}: got {} bytes, expected {}", s.Name(), s.offset, s.expected_size)));
  }
  const Digest actual = s.hasher.Current();
  if (s.expected && actual != *s.expected) {
    Discard();
    return Err(Error::Invalid(fmt::format("blob digest mismatch: expected {}, got {}",
                                          s.expected->ToString(), actual.ToString())));
  }
  if (lease != nullptr) {
    // Lease::Add holds the store lock: a gc either finished before the blob exists, or sees
    // it leased. An unknown digest has no ingest lock that gc would respect.
    RETURN_IF_ERROR(lease->Add({actual}));
  }
  const std::string target =
      os::JoinPath(s.root, "blobs/" + actual.algorithm() + "/" + actual.hex());
  if (!s.expected && ::access(target.c_str(), F_OK) == 0) {
    Discard();  // content we already have
    return actual;
  }
  if (::fchmod(s.fd.get(), 0444) != 0) {
    return Err(Error::FromErrno("chmod", s.partial_path));
  }
  if (::fsync(s.fd.get()) != 0) {
    return Err(Error::FromErrno("fsync", s.partial_path));
  }
  RETURN_IF_ERROR(os::MkdirAll(s.blob_dir, si::ReadableDirMode(s.root)));
  if (::rename(s.partial_path.c_str(), target.c_str()) != 0) {
    return Err(Error::FromErrno("rename", s.partial_path));
  }
  s.finished = true;
  RETURN_IF_ERROR(si::FsyncDir(s.blob_dir));
  return actual;
}

namespace {

// Re-hashes what an earlier writer left in the partial file, so Commit verifies the whole blob.
Status HashExisting(int fd, Hasher& hasher, uint64_t& offset, const std::string& path) {
  if (::lseek(fd, 0, SEEK_SET) < 0) {
    return Err(Error::FromErrno("seek", path));
  }
  std::vector<char> buf(1 << 16);
  while (true) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Err(Error::FromErrno("read", path));
    }
    if (n == 0) {
      break;
    }
    hasher.Update(buf.data(), static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Ok();
}

}  // namespace

Result<BlobWriter> Store::BeginBlob(const Digest& expected, int64_t expected_size) const {
  auto state = std::make_unique<BlobWriter::State>();
  state->root = root();
  state->blob_dir = os::JoinPath(root(), "blobs/" + expected.algorithm());
  state->expected = expected;
  state->expected_size = expected_size;
  state->hasher = Hasher(expected.algorithm());
  const std::string ingest = si::IngestDir(root());
  state->lock_path = os::JoinPath(ingest, expected.hex() + ".lock");
  state->partial_path = os::JoinPath(ingest, expected.hex() + ".partial");
  ASSIGN_OR_RETURN(state->lock, si::LockFile(state->lock_path, /*wait=*/true));
  if (HasBlob(expected)) {
    state->done = true;
    return BlobWriter(std::move(state));
  }
  ASSIGN_OR_RETURN(state->fd, os::Open(state->partial_path, O_RDWR | O_CREAT | O_APPEND, 0600));
  RETURN_IF_ERROR(HashExisting(state->fd.get(), state->hasher, state->offset, state->partial_path));
  BlobWriter writer(std::move(state));
  if (expected_size >= 0 && writer.offset() > static_cast<uint64_t>(expected_size)) {
    RETURN_IF_ERROR(writer.Restart());  // longer than the blob: not a prefix of it
  }
  return writer;
}

Result<BlobWriter> Store::BeginUnknownBlob() const {
  auto state = std::make_unique<BlobWriter::State>();
  state->root = root();
  state->blob_dir = os::JoinPath(root(), "blobs/sha256");
  state->partial_path =
      os::JoinPath(si::IngestDir(root()), "tmp-" + si::RandomHex(12) + ".partial");
  // Created and flocked under the store lock (shared: writers don't exclude each other), so
  // gc, which sweeps ingest/ under the exclusive lock, never finds the file unlocked.
  ASSIGN_OR_RETURN(os::UniqueFd store_lock, si::LockStore(root(), /*shared=*/true));
  ASSIGN_OR_RETURN(state->fd,
                   os::Open(state->partial_path, O_RDWR | O_CREAT | O_EXCL | O_APPEND, 0600));
  // gc removes an unknown-digest partial only when this flock is free (its writer is gone).
  if (::flock(state->fd.get(), LOCK_EX | LOCK_NB) != 0) {
    const auto err = Error::FromErrno("flock", state->partial_path);
    ::unlink(state->partial_path.c_str());
    return Err(err);
  }
  return BlobWriter(std::move(state));
}

}  // namespace comet::image
