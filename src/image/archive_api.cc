// LibArchive: libarchive resolved with DynamicLibrary on first use, see archive_api.h.
// Thread-safe (a function-local static initializes it once).
#include "image/archive_api.h"

#include <fmt/format.h>

#include "os/dynamic_library.h"

namespace comet::image {
namespace {

Status ResolveCommon(const os::DynamicLibrary& lib, ArchiveApi& api) {
  RETURN_IF_ERROR(lib.Resolve("archive_errno", api.last_errno));
  RETURN_IF_ERROR(lib.Resolve("archive_error_string", api.error_string));
  RETURN_IF_ERROR(lib.Resolve("archive_set_error", api.set_error));
  RETURN_IF_ERROR(lib.Resolve("archive_filter_code", api.filter_code));
  RETURN_IF_ERROR(lib.Resolve("archive_filter_name", api.filter_name));
  return Ok();
}

Status ResolveRead(const os::DynamicLibrary& lib, ArchiveApi& api) {
  RETURN_IF_ERROR(lib.Resolve("archive_read_new", api.read_new));
  RETURN_IF_ERROR(lib.Resolve("archive_read_free", api.read_free));
  RETURN_IF_ERROR(lib.Resolve("archive_read_support_format_tar", api.read_support_format_tar));
  RETURN_IF_ERROR(
      lib.Resolve("archive_read_support_format_gnutar", api.read_support_format_gnutar));
  RETURN_IF_ERROR(lib.Resolve("archive_read_support_filter_all", api.read_support_filter_all));
  RETURN_IF_ERROR(lib.Resolve("archive_read_open", api.read_open));
  RETURN_IF_ERROR(lib.Resolve("archive_read_open_fd", api.read_open_fd));
  RETURN_IF_ERROR(lib.Resolve("archive_read_next_header", api.read_next_header));
  RETURN_IF_ERROR(lib.Resolve("archive_read_data", api.read_data));
  RETURN_IF_ERROR(lib.Resolve("archive_read_data_block", api.read_data_block));
  return Ok();
}

Status ResolveWrite(const os::DynamicLibrary& lib, ArchiveApi& api) {
  RETURN_IF_ERROR(lib.Resolve("archive_write_new", api.write_new));
  RETURN_IF_ERROR(lib.Resolve("archive_write_free", api.write_free));
  RETURN_IF_ERROR(
      lib.Resolve("archive_write_set_format_pax_restricted", api.write_set_format_pax_restricted));
  RETURN_IF_ERROR(lib.Resolve("archive_write_add_filter_none", api.write_add_filter_none));
  RETURN_IF_ERROR(lib.Resolve("archive_write_open", api.write_open));
  RETURN_IF_ERROR(lib.Resolve("archive_write_header", api.write_header));
  RETURN_IF_ERROR(lib.Resolve("archive_write_data", api.write_data));
  RETURN_IF_ERROR(lib.Resolve("archive_write_finish_entry", api.write_finish_entry));
  RETURN_IF_ERROR(lib.Resolve("archive_write_close", api.write_close));
  return Ok();
}

Status ResolveEntryGetters(const os::DynamicLibrary& lib, ArchiveApi& api) {
  RETURN_IF_ERROR(lib.Resolve("archive_entry_new", api.entry_new));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_clone", api.entry_clone));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_free", api.entry_free));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_pathname", api.entry_pathname));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_pathname_utf8", api.entry_pathname_utf8));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_filetype", api.entry_filetype));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_perm", api.entry_perm));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_uid", api.entry_uid));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_gid", api.entry_gid));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_mtime", api.entry_mtime));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_mtime_nsec", api.entry_mtime_nsec));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_size", api.entry_size));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_size_is_set", api.entry_size_is_set));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_rdev", api.entry_rdev));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_hardlink", api.entry_hardlink));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_symlink", api.entry_symlink));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_xattr_reset", api.entry_xattr_reset));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_xattr_next", api.entry_xattr_next));
  return Ok();
}

Status ResolveEntrySetters(const os::DynamicLibrary& lib, ArchiveApi& api) {
  RETURN_IF_ERROR(lib.Resolve("archive_entry_set_pathname", api.entry_set_pathname));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_set_hardlink", api.entry_set_hardlink));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_set_filetype", api.entry_set_filetype));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_set_perm", api.entry_set_perm));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_set_size", api.entry_set_size));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_set_mtime", api.entry_set_mtime));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_set_uid", api.entry_set_uid));
  RETURN_IF_ERROR(lib.Resolve("archive_entry_set_gid", api.entry_set_gid));
  return Ok();
}

Status ResolveAll(const os::DynamicLibrary& lib, ArchiveApi& api) {
  RETURN_IF_ERROR(ResolveCommon(lib, api));
  RETURN_IF_ERROR(ResolveRead(lib, api));
  RETURN_IF_ERROR(ResolveWrite(lib, api));
  RETURN_IF_ERROR(ResolveEntryGetters(lib, api));
  return ResolveEntrySetters(lib, api);
}

}  // namespace

Result<ArchiveApi> LoadArchiveApi(const std::string& soname) {
  return os::LoadFunctionTable<ArchiveApi>(soname, "unpacking, importing and exporting images",
                                           ResolveAll);
}

Result<const ArchiveApi*> LibArchive() {
  static const Result<ArchiveApi> kLoaded = LoadArchiveApi(kArchiveSoname);
  if (!kLoaded) {
    return Err(kLoaded.error());
  }
  return &*kLoaded;
}

}  // namespace comet::image
