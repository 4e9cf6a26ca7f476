// CompileCached(): an entry per profile in a 0700 directory of ours, named by a 64-bit FNV-1a of
// the profile's canonical inputs and holding those inputs in full, so a hash collision or a
// stale entry can never hand out another profile's program. Thread-safe (no shared state but
// the build id, computed once).
#include "seccomp/filter_cache.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "base/log.h"
#include "os/file.h"
#include "os/unique_fd.h"

namespace comet::seccomp {
namespace {

constexpr std::string_view kInputsMagic = "comet-seccomp-inputs 1";
constexpr std::string_view kEntryMagic = "comet-seccomp-entry 1\n";
// seccomp(2) takes at most BPF_MAXINSNS instructions.
constexpr uint32_t kMaxInstructions = 4096;
// A profile whose inputs are larger is compiled without the cache (real ones are ~10 KiB).
constexpr size_t kMaxInputs = 1U << 20;
constexpr size_t kMaxEntryBytes =
    kEntryMagic.size() + 8 + kMaxInputs + 4 + 1 + 4 + kMaxInstructions * sizeof(sock_filter) + 8;
// More entries than this and the directory is emptied before the next store: a host runs a
// handful of distinct profiles, and any entry is cheap to make again.
constexpr size_t kMaxEntries = 32;

uint64_t Fnv1a64(std::string_view data) {
  uint64_t hash = 14695981039346656037ULL;
  for (char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

// Fixed-width native-endian fields and length-prefixed strings: the cache never leaves the host.
class Encoder {
 public:
  void U8(uint8_t value) { out_.push_back(static_cast<char>(value)); }
  void U32(uint32_t value) { Raw(&value, sizeof(value)); }
  void U64(uint64_t value) { Raw(&value, sizeof(value)); }
  void Str(std::string_view text) {
    U64(text.size());
    out_.append(text);
  }
  void OptU32(const std::optional<uint32_t>& value) {
    U8(value ? 1 : 0);
    U32(value.value_or(0));
  }
  void Strings(const std::vector<std::string>& list) {
    U64(list.size());
    for (const std::string& text : list) {
      Str(text);
    }
  }
  void Raw(const void* data, size_t size) { out_.append(static_cast<const char*>(data), size); }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  bool Raw(void* data, size_t size) {
    if (in_.size() < size) {
      return false;
    }
    std::memcpy(data, in_.data(), size);
    in_.remove_prefix(size);
    return true;
  }
  bool View(size_t size, std::string_view& out) {
    if (in_.size() < size) {
      return false;
    }
    out = in_.substr(0, size);
    in_.remove_prefix(size);
    return true;
  }
  [[nodiscard]] size_t left() const { return in_.size(); }

 private:
  std::string_view in_;
};

struct BuildIdSearch {
  uintptr_t address = 0;
  std::string id;
};

// The NT_GNU_BUILD_ID note of the loaded object holding search->address, as hex.
int FindBuildId(dl_phdr_info* info, size_t /*size*/, void* data) {
  auto* search = static_cast<BuildIdSearch*>(data);
  bool contains = false;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    const uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    contains = contains || (ph.p_type == PT_LOAD && search->address >= start &&
                            search->address - start < ph.p_memsz);
  }
  if (!contains) {
    return 0;
  }
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) {
      continue;
    }
    // NOLINTNEXTLINE(performance-no-int-to-ptr): the note segment mapped at this address
    const auto* notes = reinterpret_cast<const unsigned char*>(info->dlpi_addr + ph.p_vaddr);
    size_t offset = 0;
    while (offset + sizeof(ElfW(Nhdr)) <= ph.p_memsz) {
      ElfW(Nhdr) header;
      std::memcpy(&header, notes + offset, sizeof(header));
      const size_t name_at = offset + sizeof(header);
      const size_t desc_at = name_at + ((header.n_namesz + 3U) & ~size_t{3});
      const size_t next = desc_at + ((header.n_descsz + 3U) & ~size_t{3});
      if (next > ph.p_memsz) {
        break;
      }
      if (header.n_type == NT_GNU_BUILD_ID && header.n_namesz == 4 &&
          std::memcmp(notes + name_at, "GNU", 4) == 0 && header.n_descsz > 0) {
        for (size_t j = 0; j < header.n_descsz; ++j) {
          search->id += fmt::format("{:02x}", notes[desc_at + j]);
        }
        return 1;
      }
      offset = next;
    }
  }
  return 1;
}

// Identifies the code that compiles (this file's object, linked into a binary): an upgraded
// binary must not take programs that an older one compiled. Empty when there is no build id.
const std::string& OwnBuildId() {
  static const std::string kBuildId = [] {
    BuildIdSearch search;
    // NOLINTNEXTLINE(performance-no-int-to-ptr,cppcoreguidelines-pro-type-reinterpret-cast)
    search.address = reinterpret_cast<uintptr_t>(&FindBuildId);
    ::dl_iterate_phdr(FindBuildId, &search);
    return search.id;
  }();
  return kBuildId;
}

void EncodeSyscall(Encoder& out, const oci::SeccompSyscall& syscall) {
  out.Strings(syscall.names);
  out.Str(syscall.action);
  out.OptU32(syscall.errno_ret);
  out.U64(syscall.args.size());
  for (const oci::SeccompArg& arg : syscall.args) {
    out.U32(arg.index);
    out.U64(arg.value);
    out.U64(arg.value_two);
    out.Str(arg.op);
  }
}

Result<os::UniqueFd> OpenCacheDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Err(Error::FromErrno("mkdir", dir));
  }
  os::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    return Err(Error::FromErrno("open", dir));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Err(Error::FromErrno("stat", dir));
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    return Err(Error(EPERM, "seccomp cache " + dir +
                                " must be a directory of this user that no one else may enter"));
  }
  return fd;
}

// The entry's program when it is valid for `inputs`; nullopt (a miss) otherwise.
std::optional<CompiledFilter> LoadEntry(int dir_fd, const std::string& name,
                                        std::string_view inputs) {
  os::UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() ||
      static_cast<size_t>(st.st_size) > kMaxEntryBytes) {
    return std::nullopt;
  }
  auto bytes = os::ReadFd(fd.get(), kMaxEntryBytes);
  if (!bytes || bytes->size() < 8) {
    return std::nullopt;
  }
  const std::string_view body(bytes->data(), bytes->size() - 8);
  uint64_t checksum = 0;
  std::memcpy(&checksum, bytes->data() + body.size(), sizeof(checksum));
  if (checksum != Fnv1a64(body)) {
    return std::nullopt;
  }
  Decoder in(body);
  std::string_view magic;
  uint64_t inputs_size = 0;
  std::string_view stored_inputs;
  CompiledFilter filter;
  uint8_t needs_listener = 0;
  uint32_t count = 0;
  if (!in.View(kEntryMagic.size(), magic) || magic != kEntryMagic ||
      !in.Raw(&inputs_size, sizeof(inputs_size)) || inputs_size != inputs.size() ||
      !in.View(inputs.size(), stored_inputs) || stored_inputs != inputs ||
      !in.Raw(&filter.flags, sizeof(filter.flags)) ||
      !in.Raw(&needs_listener, sizeof(needs_listener)) || needs_listener > 1 ||
      !in.Raw(&count, sizeof(count)) || count == 0 || count > kMaxInstructions ||
      in.left() != count * sizeof(sock_filter)) {
    return std::nullopt;
  }
  filter.needs_listener = needs_listener != 0;
  filter.program.resize(count);
  (void)in.Raw(filter.program.data(), count * sizeof(sock_filter));
  return filter;
}

// Empties the directory when it holds kMaxEntries entries or more (it must stay small).
void Prune(int dir_fd) {
  DIR* dir = ::fdopendir(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir == nullptr) {
    return;
  }
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(dir)) {  // NOLINT(concurrency-mt-unsafe)
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  ::closedir(dir);
  if (names.size() < kMaxEntries) {
    return;
  }
  for (const std::string& name : names) {
    (void)::unlinkat(dir_fd, name.c_str(), 0);
  }
}

Status StoreEntry(int dir_fd, const std::string& name, std::string_view inputs,
                  const CompiledFilter& filter) {
  Encoder out;
  out.Raw(kEntryMagic.data(), kEntryMagic.size());
  out.Str(inputs);
  out.U32(filter.flags);
  out.U8(filter.needs_listener ? 1 : 0);
  out.U32(static_cast<uint32_t>(filter.program.size()));
  out.Raw(filter.program.data(), filter.program.size() * sizeof(sock_filter));
  out.U64(Fnv1a64(out.out()));
  Prune(dir_fd);
  static std::atomic<unsigned> counter{0};
  const std::string temp = fmt::format(".tmp-{}-{}", ::getpid(), counter++);
  os::UniqueFd fd(
      ::openat(dir_fd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) {
    return Err(Error::FromErrno("create", temp));
  }
  Status written = os::WriteAll(fd.get(), out.out());
  if (written && ::renameat(dir_fd, temp.c_str(), dir_fd, name.c_str()) != 0) {
    written = Err(Error::FromErrno("rename", name));
  }
  if (!written) {
    (void)::unlinkat(dir_fd, temp.c_str(), 0);
  }
  return written;
}

}  // namespace

std::string CacheInputs(const oci::Seccomp& profile) {
  const std::string& build_id = OwnBuildId();
  const scmp_version* version = seccomp_version();
  struct utsname uts {};
  if (build_id.empty() || version == nullptr || ::uname(&uts) != 0) {
    return "";
  }
  Encoder out;
  out.Str(kInputsMagic);
  out.Str(build_id);
  out.U32(version->major);
  out.U32(version->minor);
  out.U32(version->micro);
  out.U32(seccomp_api_get());
  out.U32(seccomp_arch_native());
  out.Str(uts.release);
  out.Str(uts.version);
  out.Str(profile.default_action);
  out.OptU32(profile.default_errno_ret);
  out.Strings(profile.architectures);
  out.Strings(profile.flags);
  out.U64(profile.syscalls.size());
  for (const oci::SeccompSyscall& syscall : profile.syscalls) {
    EncodeSyscall(out, syscall);
  }
  // listenerPath and listenerMetadata do not reach the program.
  return std::move(out.out());
}

std::string CacheEntryName(std::string_view inputs) {
  return fmt::format("{:016x}", Fnv1a64(inputs));
}

Result<CompiledFilter> CompileCached(const oci::Seccomp& profile, const std::string& dir,
                                     CacheOutcome* outcome) {
  CacheOutcome ignored = CacheOutcome::kDisabled;
  CacheOutcome& result = outcome != nullptr ? *outcome : ignored;
  result = CacheOutcome::kDisabled;
  if (dir.empty()) {
    return Compile(profile);
  }
  const std::string inputs = CacheInputs(profile);
  if (inputs.empty() || inputs.size() > kMaxInputs) {
    return Compile(profile);
  }
  auto dir_fd = OpenCacheDir(dir);
  if (!dir_fd) {
    log::Debug("seccomp: not using the cache: {}", dir_fd.error().ToString());
    return Compile(profile);
  }
  const std::string name = CacheEntryName(inputs);
  if (auto cached = LoadEntry(dir_fd->get(), name, inputs)) {
    result = CacheOutcome::kHit;
    return std::move(*cached);
  }
  result = CacheOutcome::kMiss;
  ASSIGN_OR_RETURN(CompiledFilter filter, Compile(profile));
  if (auto stored = StoreEntry(dir_fd->get(), name, inputs, filter); !stored) {
    log::Debug("seccomp: storing {} in the cache: {}", name, stored.error().ToString());
  }
  return filter;
}

}  // namespace comet::seccomp
