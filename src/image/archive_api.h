// The libarchive functions comet calls, loaded on first use (dlopen), so that commands which read
// or write no tar stream (run, list, status...) do not load libarchive and its dependencies.
// Thread-safe: the table is loaded once and never changes.
#ifndef COMET_IMAGE_ARCHIVE_API_H_
#define COMET_IMAGE_ARCHIVE_API_H_

#include <archive.h>
#include <archive_entry.h>

#include <string>

#include "base/result.h"

namespace comet::image {

inline constexpr const char* kArchiveSoname = "libarchive.so.13";

// Each member is the function named archive_<member> (last_errno: archive_errno, as errno is a
// macro), typed from <archive.h> and <archive_entry.h>.
struct ArchiveApi {
  decltype(&archive_errno) last_errno = nullptr;
  decltype(&archive_error_string) error_string = nullptr;
  decltype(&archive_set_error) set_error = nullptr;
  decltype(&archive_filter_code) filter_code = nullptr;
  decltype(&archive_filter_name) filter_name = nullptr;

  decltype(&archive_read_new) read_new = nullptr;
  decltype(&archive_read_free) read_free = nullptr;
  decltype(&archive_read_support_format_tar) read_support_format_tar = nullptr;
  decltype(&archive_read_support_format_gnutar) read_support_format_gnutar = nullptr;
  decltype(&archive_read_support_filter_all) read_support_filter_all = nullptr;
  decltype(&archive_read_open) read_open = nullptr;
  decltype(&archive_read_open_fd) read_open_fd = nullptr;
  decltype(&archive_read_next_header) read_next_header = nullptr;
  decltype(&archive_read_data) read_data = nullptr;
  decltype(&archive_read_data_block) read_data_block = nullptr;

  decltype(&archive_write_new) write_new = nullptr;
  decltype(&archive_write_free) write_free = nullptr;
  decltype(&archive_write_set_format_pax_restricted) write_set_format_pax_restricted = nullptr;
  decltype(&archive_write_add_filter_none) write_add_filter_none = nullptr;
  decltype(&archive_write_open) write_open = nullptr;
  decltype(&archive_write_header) write_header = nullptr;
  decltype(&archive_write_data) write_data = nullptr;
  decltype(&archive_write_finish_entry) write_finish_entry = nullptr;
  decltype(&archive_write_close) write_close = nullptr;

  decltype(&archive_entry_new) entry_new = nullptr;
  decltype(&archive_entry_clone) entry_clone = nullptr;
  decltype(&archive_entry_free) entry_free = nullptr;
  decltype(&archive_entry_pathname) entry_pathname = nullptr;
  decltype(&archive_entry_pathname_utf8) entry_pathname_utf8 = nullptr;
  decltype(&archive_entry_filetype) entry_filetype = nullptr;
  decltype(&archive_entry_perm) entry_perm = nullptr;
  decltype(&archive_entry_uid) entry_uid = nullptr;
  decltype(&archive_entry_gid) entry_gid = nullptr;
  decltype(&archive_entry_mtime) entry_mtime = nullptr;
  decltype(&archive_entry_mtime_nsec) entry_mtime_nsec = nullptr;
  decltype(&archive_entry_size) entry_size = nullptr;
  decltype(&archive_entry_size_is_set) entry_size_is_set = nullptr;
  decltype(&archive_entry_rdev) entry_rdev = nullptr;
  decltype(&archive_entry_hardlink) entry_hardlink = nullptr;
  decltype(&archive_entry_symlink) entry_symlink = nullptr;
  decltype(&archive_entry_xattr_reset) entry_xattr_reset = nullptr;
  decltype(&archive_entry_xattr_next) entry_xattr_next = nullptr;
  decltype(&archive_entry_set_pathname) entry_set_pathname = nullptr;
  decltype(&archive_entry_set_hardlink) entry_set_hardlink = nullptr;
  decltype(&archive_entry_set_filetype) entry_set_filetype = nullptr;
  decltype(&archive_entry_set_perm) entry_set_perm = nullptr;
  decltype(&archive_entry_set_size) entry_set_size = nullptr;
  decltype(&archive_entry_set_mtime) entry_set_mtime = nullptr;
  decltype(&archive_entry_set_uid) entry_set_uid = nullptr;
  decltype(&archive_entry_set_gid) entry_set_gid = nullptr;

  bool operator==(const ArchiveApi&) const = default;
};

// Loads `soname` and resolves every member. Errors say what needs the library, with dlerror's
// text.
[[nodiscard]] Result<ArchiveApi> LoadArchiveApi(const std::string& soname);

// libarchive (kArchiveSoname), loaded once per process on the first call; later calls return the
// same table, or the same error.
[[nodiscard]] Result<const ArchiveApi*> LibArchive();

}  // namespace comet::image

#endif  // COMET_IMAGE_ARCHIVE_API_H_
