// Tar streams for imports and exports, over libarchive (loaded on first use, archive_api.h): a
// sequential reader of any compressed tar and a pax writer to a callback. Thread-compatible.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/strings.h"
#include "image/archive_api.h"
#include "image/transfer_internal.h"
#include "os/file.h"

namespace comet::image::transfer {

Result<std::string> NormalizeArchivePath(std::string_view raw) {
  if (!raw.empty() && raw.front() == '/') {
    return Err(Error::Invalid("archive path " + JsonQuote(raw) + " is absolute"));
  }
  std::vector<std::string> parts;
  for (std::string& part : Split(raw, '/')) {
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      return Err(Error::Invalid("archive path " + JsonQuote(raw) + " escapes the archive"));
    }
    parts.push_back(std::move(part));
  }
  return Join(parts, "/");
}

namespace {

Error ArchiveError(const ArchiveApi& la, archive* a, std::string_view what) {
  const char* text = la.error_string(a);
  int code = la.last_errno(a);
  return {code > 0 ? code : EINVAL,
          std::string(what) + ": " + (text != nullptr ? text : "libarchive error")};
}

EntryType TypeOf(const ArchiveApi& la, archive_entry* entry) {
  if (la.entry_hardlink(entry) != nullptr) {
    return EntryType::kHardlink;
  }
  switch (la.entry_filetype(entry)) {
    case AE_IFREG:
      return EntryType::kFile;
    case AE_IFDIR:
      return EntryType::kDirectory;
    case AE_IFLNK:
      return EntryType::kSymlink;
    default:
      return EntryType::kOther;
  }
}

}  // namespace

Result<TarReader> TarReader::Open(const std::string& path) {
  TarReader reader;
  ASSIGN_OR_RETURN(reader.la_, LibArchive());
  const ArchiveApi& la = *reader.la_;
  reader.path_ = path;
  ASSIGN_OR_RETURN(reader.fd_, os::Open(path, O_RDONLY | O_CLOEXEC));
  reader.archive_ = la.read_new();
  if (reader.archive_ == nullptr) {
    return Err(Error(ENOMEM, "archive_read_new"));
  }
  la.read_support_format_tar(reader.archive_);
  la.read_support_format_gnutar(reader.archive_);
  la.read_support_filter_all(reader.archive_);
  if (la.read_open_fd(reader.archive_, reader.fd_.get(), 1U << 16U) != ARCHIVE_OK) {
    return Err(ArchiveError(la, reader.archive_, path));
  }
  return reader;
}

TarReader::TarReader(TarReader&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::move(other.fd_)),
      la_(other.la_),
      archive_(other.archive_) {
  other.archive_ = nullptr;
}

TarReader& TarReader::operator=(TarReader&& other) noexcept {
  if (this != &other) {
    if (archive_ != nullptr) {
      la_->read_free(archive_);
    }
    path_ = std::move(other.path_);
    fd_ = std::move(other.fd_);
    la_ = other.la_;
    archive_ = other.archive_;
    other.archive_ = nullptr;
  }
  return *this;
}

TarReader::~TarReader() {
  if (archive_ != nullptr) {
    la_->read_free(archive_);
  }
}

Result<std::optional<TarEntry>> TarReader::Next() {
  archive_entry* raw = nullptr;
  int rc = la_->read_next_header(archive_, &raw);
  if (rc == ARCHIVE_EOF) {
    return std::optional<TarEntry>();
  }
  if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
    return Err(ArchiveError(*la_, archive_, path_));
  }
  const char* name = la_->entry_pathname(raw);
  if (name == nullptr) {
    return Err(Error::Invalid(path_ + ": tar entry without a path"));
  }
  TarEntry entry;
  entry.raw = raw;
  std::string_view relative = name;
  while (allow_absolute_ && relative.starts_with('/')) {
    entry.absolute = true;
    relative.remove_prefix(1);
  }
  ASSIGN_OR_RETURN(entry.path, NormalizeArchivePath(relative));
  entry.type = TypeOf(*la_, raw);
  entry.size = la_->entry_size_is_set(raw) != 0 ? la_->entry_size(raw) : 0;
  if (entry.size < 0) {
    return Err(Error::Invalid(path_ + ": " + entry.path + ": negative size"));
  }
  if (entry.type == EntryType::kHardlink) {
    std::string_view link = la_->entry_hardlink(raw);
    while (allow_absolute_ && link.starts_with('/')) {
      link.remove_prefix(1);
    }
    ASSIGN_OR_RETURN(entry.link, NormalizeArchivePath(link));
  } else if (entry.type == EntryType::kSymlink) {
    const char* target = la_->entry_symlink(raw);
    entry.link = target != nullptr ? target : "";
  }
  return std::optional<TarEntry>(std::move(entry));
}

Status TarReader::ReadData(const std::function<Status(std::string_view)>& sink) {
  std::vector<char> buffer(kCopyChunk);
  for (;;) {
    la_ssize_t n = la_->read_data(archive_, buffer.data(), buffer.size());
    if (n < 0) {
      return Err(ArchiveError(*la_, archive_, path_));
    }
    if (n == 0) {
      return Ok();
    }
    RETURN_IF_ERROR(sink(std::string_view(buffer.data(), static_cast<size_t>(n))));
  }
}

Result<std::string> TarReader::ReadSmall(size_t limit) {
  std::string data;
  RETURN_IF_ERROR(ReadData([&](std::string_view chunk) -> Status {
    if (data.size() + chunk.size() > limit) {
      return Err(Error(EFBIG, "entry larger than " + std::to_string(limit) + " bytes"));
    }
    data.append(chunk);
    return Ok();
  }));
  return data;
}

std::string TarReader::FilterName() const {
  switch (la_->filter_code(archive_, 0)) {
    case ARCHIVE_FILTER_NONE:
      return "none";
    case ARCHIVE_FILTER_GZIP:
      return "gzip";
    case ARCHIVE_FILTER_ZSTD:
      return "zstd";
    default: {
      const char* name = la_->filter_name(archive_, 0);
      return name != nullptr ? name : "unknown";
    }
  }
}

// ---- writer

struct TarWriter::State {
  const ArchiveApi* la = nullptr;
  Sink sink;
  archive* a = nullptr;
  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  State(State&&) = delete;
  State& operator=(State&&) = delete;
  ~State() {
    if (a != nullptr) {
      la->write_free(a);
    }
  }

  // libarchive's write callback; `client` is the State.
  static la_ssize_t Write(archive* a, void* client, const void* buffer, size_t length) {
    auto* self = static_cast<State*>(client);
    Status status = self->sink(std::string_view(static_cast<const char*>(buffer), length));
    if (!status) {
      self->la->set_error(a, status.error().code(), "%s", status.error().ToString().c_str());
      return -1;
    }
    return static_cast<la_ssize_t>(length);
  }

  [[nodiscard]] Status WriteHeader(archive_entry* entry, const std::string& name) const {
    if (la->write_header(a, entry) != ARCHIVE_OK) {
      return Err(ArchiveError(*la, a, "writing " + name));
    }
    return Ok();
  }

  [[nodiscard]] Status FinishEntry(const std::string& name) const {
    if (la->write_finish_entry(a) != ARCHIVE_OK) {
      return Err(ArchiveError(*la, a, "writing " + name));
    }
    return Ok();
  }
};

namespace {

using EntryPtr = std::unique_ptr<archive_entry, decltype(&archive_entry_free)>;

EntryPtr NewEntry(const ArchiveApi& la, const std::string& name, unsigned int type,
                  unsigned int perm, int64_t size) {
  EntryPtr entry(la.entry_new(), la.entry_free);
  la.entry_set_pathname(entry.get(), name.c_str());
  la.entry_set_filetype(entry.get(), type);
  la.entry_set_perm(entry.get(), perm);
  la.entry_set_size(entry.get(), size);
  la.entry_set_mtime(entry.get(), 0, 0);  // reproducible archives
  la.entry_set_uid(entry.get(), 0);
  la.entry_set_gid(entry.get(), 0);
  return entry;
}

}  // namespace

TarWriter::TarWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
TarWriter::TarWriter(TarWriter&&) noexcept = default;
TarWriter& TarWriter::operator=(TarWriter&&) noexcept = default;
TarWriter::~TarWriter() = default;

Result<TarWriter> TarWriter::Open(Sink sink) {
  auto state = std::make_unique<State>();
  ASSIGN_OR_RETURN(state->la, LibArchive());
  const ArchiveApi& la = *state->la;
  state->sink = std::move(sink);
  state->a = la.write_new();
  if (state->a == nullptr) {
    return Err(Error(ENOMEM, "archive_write_new"));
  }
  if (la.write_set_format_pax_restricted(state->a) != ARCHIVE_OK ||
      la.write_add_filter_none(state->a) != ARCHIVE_OK ||
      la.write_open(state->a, state.get(), nullptr, &State::Write, nullptr) != ARCHIVE_OK) {
    return Err(ArchiveError(la, state->a, "opening tar writer"));
  }
  return TarWriter(std::move(state));
}

Status TarWriter::AddDirectory(const std::string& name) {
  EntryPtr entry = NewEntry(*state_->la, name, AE_IFDIR, 0755, 0);
  return state_->WriteHeader(entry.get(), name);
}

Status TarWriter::WriteData(std::string_view data) {
  while (!data.empty()) {
    la_ssize_t n = state_->la->write_data(state_->a, data.data(), data.size());
    if (n <= 0) {
      return Err(ArchiveError(*state_->la, state_->a, "writing tar data"));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

Status TarWriter::AddFile(
    const std::string& name, int64_t size,
    const std::function<Status(const std::function<Status(std::string_view)>&)>& produce) {
  EntryPtr entry = NewEntry(*state_->la, name, AE_IFREG, 0644, size);
  RETURN_IF_ERROR(state_->WriteHeader(entry.get(), name));
  int64_t written = 0;
  RETURN_IF_ERROR_CTX(produce([&](std::string_view chunk) -> Status {
                        written += static_cast<int64_t>(chunk.size());
                        if (written > size) {
                          return Err(Error::Invalid("more data than the " + std::to_string(size) +
                                                    " bytes announced"));
                        }
                        return WriteData(chunk);
                      }),
                      name);
  if (written != size) {
    return Err(Error::Invalid(name + ": " + std::to_string(written) + " bytes instead of " +
                              std::to_string(size)));
  }
  return state_->FinishEntry(name);
}

Status TarWriter::AddBytes(const std::string& name, std::string_view data) {
  return AddFile(name, static_cast<int64_t>(data.size()),
                 [&](const std::function<Status(std::string_view)>& write) { return write(data); });
}

Status TarWriter::CopyEntry(TarReader& reader, const TarEntry& entry, const std::string& name,
                            const std::string& hardlink) {
  const ArchiveApi& la = *state_->la;
  EntryPtr copy(la.entry_clone(entry.raw), la.entry_free);
  la.entry_set_pathname(copy.get(), name.c_str());
  if (entry.type == EntryType::kHardlink) {
    la.entry_set_hardlink(copy.get(), hardlink.c_str());
    la.entry_set_size(copy.get(), 0);
  }
  RETURN_IF_ERROR(state_->WriteHeader(copy.get(), name));
  if (entry.type == EntryType::kFile) {
    RETURN_IF_ERROR(reader.ReadData([&](std::string_view chunk) { return WriteData(chunk); }));
  }
  return state_->FinishEntry(name);
}

Status TarWriter::Close() {
  if (state_->la->write_close(state_->a) != ARCHIVE_OK) {
    return Err(ArchiveError(*state_->la, state_->a, "closing tar writer"));
  }
  return Ok();
}

Result<Compression> SniffCompression(int fd) {
  unsigned char magic[4] = {};
  ssize_t n = 0;
  do {
    n = ::pread(fd, magic, sizeof(magic), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return Err(Error::FromErrno("pread"));
  }
  if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    return Compression::kGzip;
  }
  if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) {
    return Compression::kZstd;
  }
  return Compression::kNone;
}

Status CopyFd(int fd, const std::function<Status(std::string_view)>& sink) {
  std::vector<char> buffer(kCopyChunk);
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Err(Error::FromErrno("read"));
    }
    if (n == 0) {
      return Ok();
    }
    RETURN_IF_ERROR(sink(std::string_view(buffer.data(), static_cast<size_t>(n))));
  }
}

}  // namespace comet::image::transfer
