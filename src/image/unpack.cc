// UnpackLayer: reads tar entries with libarchive (tar formats only) from a LayerStream (run on a
// worker thread, joined before returning) and places them with TreeWriter, which enforces our own
// no-follow, stay-inside policy instead of archive_write_disk's. Thread-compatible: all state is
// per call; files are written on the calling thread (its credentials apply).
#include "image/unpack.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "image/archive_api.h"
#include "image/layer_stream.h"
#include "image/tree_writer.h"

namespace comet::image {
namespace {

// A bound on work per layer; real layers have at most a few hundred thousand entries.
constexpr uint64_t kMaxEntries = 10'000'000;
// Bound on the xattrs of one entry (libarchive already bounds the PAX header holding them).
constexpr size_t kMaxXattrs = 128;

class Unpacker {
 public:
  Unpacker(const ArchiveApi& la, TarChunks& stream, TreeWriter& writer,
           const UnpackOptions& options)
      : la_(la),
        stream_(stream),
        writer_(writer),
        options_(options),
        archive_(nullptr, la.read_free) {}

  [[nodiscard]] Result<UnpackStats> Run();

 private:
  static la_ssize_t Read(archive* a, void* data, const void** buffer);
  // The stream's own error when it failed (truncated gzip...), else libarchive's.
  [[nodiscard]] Error ArchiveError(std::string_view what) const;
  [[nodiscard]] Status Entry(archive_entry* entry);
  [[nodiscard]] Status Place(archive_entry* entry, const std::string& path);
  [[nodiscard]] Status FillMeta(archive_entry* entry);
  [[nodiscard]] Status WriteData(archive_entry* entry, const std::string& path);

  const ArchiveApi& la_;
  TarChunks& stream_;
  TreeWriter& writer_;
  const UnpackOptions& options_;
  std::unique_ptr<archive, decltype(&archive_read_free)> archive_;
  std::optional<Error> stream_error_;
  uint64_t entries_ = 0;
  uint64_t skipped_devices_ = 0;
  std::string path_;  // reused across entries: no allocation per entry
  std::string link_;
  EntryMeta meta_;
};

la_ssize_t Unpacker::Read(archive* a, void* data, const void** buffer) {
  auto* self = static_cast<Unpacker*>(data);
  Result<std::string_view> chunk = self->stream_.Next();
  if (!chunk) {
    self->stream_error_ = std::move(chunk).error();
    self->la_.set_error(a, EIO, "%s", self->stream_error_->message().c_str());
    return -1;
  }
  *buffer = chunk->data();
  return static_cast<la_ssize_t>(chunk->size());
}

Error Unpacker::ArchiveError(std::string_view what) const {
  if (stream_error_) {
    return *stream_error_;
  }
  const char* message = la_.error_string(archive_.get());
  return Error::Invalid(std::string(what) + ": " + (message != nullptr ? message : "tar error"));
}

Result<UnpackStats> Unpacker::Run() {
  archive_.reset(la_.read_new());
  if (!archive_) {
    return Err(Error(ENOMEM, "libarchive: cannot allocate a reader"));
  }
  // The tar family only (ustar, pax, GNU); the bytes are already decompressed.
  if (la_.read_support_format_tar(archive_.get()) != ARCHIVE_OK ||
      la_.read_open(archive_.get(), this, nullptr, &Unpacker::Read, nullptr) != ARCHIVE_OK) {
    return Err(ArchiveError("reading tar"));
  }
  while (true) {
    archive_entry* entry = nullptr;
    int rc = la_.read_next_header(archive_.get(), &entry);
    if (rc == ARCHIVE_EOF) {
      break;
    }
    // ARCHIVE_RETRY (a bad header libarchive would skip) is an error too.
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      return Err(ArchiveError("reading tar header after " + std::to_string(entries_) + " entries"));
    }
    if (++entries_ > kMaxEntries) {
      return Err(Error::Invalid("layer has more than " + std::to_string(kMaxEntries) + " entries"));
    }
    RETURN_IF_ERROR(Entry(entry));
  }
  // The digests cover the whole blob, including anything after the end-of-archive marker.
  ASSIGN_OR_RETURN(LayerDigests digests, stream_.Finish());
  RETURN_IF_ERROR(writer_.Finish());
  return UnpackStats{std::move(digests), entries_, skipped_devices_};
}

Status Unpacker::Entry(archive_entry* entry) {
  const char* raw = la_.entry_pathname(entry);
  if (raw == nullptr) {
    raw = la_.entry_pathname_utf8(entry);
  }
  if (raw == nullptr) {
    raw = "";  // libarchive gives no name for an empty one
  }
  Status status = NormalizeEntryPath(raw, &path_);
  if (status) {
    status = FillMeta(entry);
  }
  if (status) {
    status = Place(entry, path_);
  }
  if (!status) {
    return Err(std::move(status).error().AddContext("entry " + std::string(raw)));
  }
  return Ok();
}

Status Unpacker::FillMeta(archive_entry* entry) {
  int64_t uid = la_.entry_uid(entry);
  int64_t gid = la_.entry_gid(entry);
  constexpr int64_t kMaxId = std::numeric_limits<uint32_t>::max() - 1;  // -1 is "no id"
  if (uid < 0 || uid > kMaxId) {
    return Err(Error::Invalid("bad uid " + std::to_string(uid)));
  }
  if (gid < 0 || gid > kMaxId) {
    return Err(Error::Invalid("bad gid " + std::to_string(gid)));
  }
  if (options_.keep_ownership) {
    std::optional<uint32_t> host_uid = MapId(options_.uid_map, static_cast<uint32_t>(uid));
    std::optional<uint32_t> host_gid = MapId(options_.gid_map, static_cast<uint32_t>(gid));
    if (!host_uid) {
      return Err(Error::Invalid("uid " + std::to_string(uid) + " is not mapped"));
    }
    if (!host_gid) {
      return Err(Error::Invalid("gid " + std::to_string(gid) + " is not mapped"));
    }
    meta_.uid = *host_uid;
    meta_.gid = *host_gid;
  }
  meta_.perm = la_.entry_perm(entry) & 07777;
  if (!options_.keep_setid) {
    meta_.perm &= ~static_cast<mode_t>(S_ISUID | S_ISGID);
  }
  meta_.mtime.tv_sec = la_.entry_mtime(entry);
  meta_.mtime.tv_nsec = std::clamp(la_.entry_mtime_nsec(entry), 0L, 999'999'999L);
  meta_.xattrs.clear();
  if (options_.keep_xattrs && la_.entry_xattr_reset(entry) > 0) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (la_.entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
      std::string_view key(name != nullptr ? name : "");
      // trusted.* and security.selinux... would let an image set overlay or LSM state.
      if (!key.starts_with("user.") && key != "security.capability") {
        continue;
      }
      if (meta_.xattrs.size() == kMaxXattrs) {
        return Err(Error::Invalid("too many xattrs"));
      }
      meta_.xattrs.emplace_back(key, std::string(static_cast<const char*>(value), size));
    }
  }
  return Ok();
}

Status Unpacker::Place(archive_entry* entry, const std::string& path) {
  mode_t type = la_.entry_filetype(entry);
  if (const char* target = la_.entry_hardlink(entry); target != nullptr) {
    RETURN_IF_ERROR_CTX(NormalizeEntryPath(target, &link_), "hardlink target");
    if (path.empty() || link_.empty()) {
      return Err(Error::Invalid("hardlink with an empty name"));
    }
    return writer_.CreateHardlink(path, link_);
  }
  if (path.empty()) {
    if (type != AE_IFDIR) {
      return Err(Error::Invalid("empty name"));
    }
    writer_.SetRootMeta(meta_);
    return Ok();
  }
  size_t slash = path.rfind('/');
  if (path.compare(slash == std::string::npos ? 0 : slash + 1, 4, ".wh.") == 0) {
    return writer_.ApplyWhiteout(path, meta_);
  }
  switch (type) {
    case AE_IFREG:
      return WriteData(entry, path);
    case AE_IFDIR:
      return writer_.CreateDirectory(path, meta_);
    case AE_IFLNK: {
      const char* target = la_.entry_symlink(entry);
      if (target == nullptr || *target == '\0') {
        return Err(Error::Invalid("symlink without target"));
      }
      return writer_.CreateSymlink(path, target, meta_);
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      if (!options_.allow_devices) {
        ++skipped_devices_;
        return Ok();
      }
      return writer_.CreateNode(path, type, la_.entry_rdev(entry), meta_);
    case AE_IFSOCK:
      return Ok();  // a socket is only meaningful to the process that bound it
    default:
      return Err(Error::Invalid("unsupported entry type " + std::to_string(type)));
  }
}

Status Unpacker::WriteData(archive_entry* entry, const std::string& path) {
  ASSIGN_OR_RETURN(os::UniqueFd fd, writer_.CreateFile(path));
  int64_t end = 0;
  while (true) {
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int rc = la_.read_data_block(archive_.get(), &block, &size, &offset);
    if (rc == ARCHIVE_EOF) {
      break;
    }
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      return Err(ArchiveError("reading data"));
    }
    const char* data = static_cast<const char*>(block);
    while (size > 0) {
      ssize_t n = pwrite(fd.get(), data, size, offset);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return Err(Error::FromErrno("write", path));
      }
      data += n;
      size -= static_cast<size_t>(n);
      offset += n;
    }
    end = std::max<int64_t>(end, offset);
  }
  // Sparse files can end in a hole.
  if (int64_t size = la_.entry_size(entry); size > end && ftruncate(fd.get(), size) != 0) {
    return Err(Error::FromErrno("truncate", path));
  }
  return writer_.FinishFile(fd.get(), meta_, path);
}

Result<UnpackStats> UnpackFrom(const ArchiveApi& la, TarChunks& stream, const std::string& dest,
                               const UnpackOptions& options) {
  ASSIGN_OR_RETURN(TreeWriter writer, TreeWriter::Open(dest, options));
  Unpacker unpacker(la, stream, writer, options);
  return unpacker.Run();
}

}  // namespace

Result<UnpackStats> UnpackLayer(int source_fd, std::optional<Compression> compression,
                                const std::string& dest, const UnpackOptions& options) {
  ASSIGN_OR_RETURN(const ArchiveApi* la, LibArchive());
  LayerStream stream(FdSource(source_fd), compression, options.max_uncompressed_bytes);
  PipelinedLayerStream pipelined(stream);  // joined before `stream` goes
  return UnpackFrom(*la, pipelined, dest, options);
}

// No worker thread here: `read_tar_bytes` is the caller's and may expect to run on its thread.
Result<UnpackStats> UnpackTarStream(
    const std::function<Result<size_t>(char* buffer, size_t size)>& read_tar_bytes,
    const std::string& dest, const UnpackOptions& options) {
  ASSIGN_OR_RETURN(const ArchiveApi* la, LibArchive());
  LayerStream stream(read_tar_bytes, Compression::kNone, options.max_uncompressed_bytes);
  return UnpackFrom(*la, stream, dest, options);
}

}  // namespace comet::image
