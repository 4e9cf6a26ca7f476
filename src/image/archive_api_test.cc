// Tests for the lazily loaded libarchive table: every member is the linked function of its name,
// and a missing library or symbol is a clear error.
#include "image/archive_api.h"

#include <cerrno>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace comet::image {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The table as the linker binds it (this test links libarchive), member by member.
ArchiveApi Linked() {
  return ArchiveApi{
      .last_errno = &archive_errno,
      .error_string = &archive_error_string,
      .set_error = &archive_set_error,
      .filter_code = &archive_filter_code,
      .filter_name = &archive_filter_name,
      .read_new = &archive_read_new,
      .read_free = &archive_read_free,
      .read_support_format_tar = &archive_read_support_format_tar,
      .read_support_format_gnutar = &archive_read_support_format_gnutar,
      .read_support_filter_all = &archive_read_support_filter_all,
      .read_open = &archive_read_open,
      .read_open_fd = &archive_read_open_fd,
      .read_next_header = &archive_read_next_header,
      .read_data = &archive_read_data,
      .read_data_block = &archive_read_data_block,
      .write_new = &archive_write_new,
      .write_free = &archive_write_free,
      .write_set_format_pax_restricted = &archive_write_set_format_pax_restricted,
      .write_add_filter_none = &archive_write_add_filter_none,
      .write_open = &archive_write_open,
      .write_header = &archive_write_header,
      .write_data = &archive_write_data,
      .write_finish_entry = &archive_write_finish_entry,
      .write_close = &archive_write_close,
      .entry_new = &archive_entry_new,
      .entry_clone = &archive_entry_clone,
      .entry_free = &archive_entry_free,
      .entry_pathname = &archive_entry_pathname,
      .entry_pathname_utf8 = &archive_entry_pathname_utf8,
      .entry_filetype = &archive_entry_filetype,
      .entry_perm = &archive_entry_perm,
      .entry_uid = &archive_entry_uid,
      .entry_gid = &archive_entry_gid,
      .entry_mtime = &archive_entry_mtime,
      .entry_mtime_nsec = &archive_entry_mtime_nsec,
      .entry_size = &archive_entry_size,
      .entry_size_is_set = &archive_entry_size_is_set,
      .entry_rdev = &archive_entry_rdev,
      .entry_hardlink = &archive_entry_hardlink,
      .entry_symlink = &archive_entry_symlink,
      .entry_xattr_reset = &archive_entry_xattr_reset,
      .entry_xattr_next = &archive_entry_xattr_next,
      .entry_set_pathname = &archive_entry_set_pathname,
      .entry_set_hardlink = &archive_entry_set_hardlink,
      .entry_set_filetype = &archive_entry_set_filetype,
      .entry_set_perm = &archive_entry_set_perm,
      .entry_set_size = &archive_entry_set_size,
      .entry_set_mtime = &archive_entry_set_mtime,
      .entry_set_uid = &archive_entry_set_uid,
      .entry_set_gid = &archive_entry_set_gid,
  };
}

TEST(ArchiveApiTest, ResolvesEveryFunctionToItsNamesake) {
  auto api = LoadArchiveApi(kArchiveSoname);
  ASSERT_TRUE(api) << api.error().ToString();
  EXPECT_TRUE(*api == Linked());
}

TEST(ArchiveApiTest, LoadsOnceForTheProcess) {
  auto first = LibArchive();
  ASSERT_TRUE(first) << first.error().ToString();
  auto second = LibArchive();
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(*first, *second);
  EXPECT_TRUE(**first == Linked());
}

TEST(ArchiveApiTest, MissingLibraryIsAClearError) {
  auto api = LoadArchiveApi("libcomet-no-such-archive.so.13");
  ASSERT_FALSE(api);
  EXPECT_EQ(api.error().code(), ELIBACC);
  EXPECT_THAT(api.error().message(), StartsWith("unpacking, importing and exporting images need "
                                                "libcomet-no-such-archive.so.13: "));
  EXPECT_THAT(api.error().message(), HasSubstr("cannot open shared object file"));
}

TEST(ArchiveApiTest, LibraryWithoutTheFunctionsIsAClearError) {
  auto api = LoadArchiveApi("libc.so.6");
  ASSERT_FALSE(api);
  EXPECT_EQ(api.error().code(), ELIBACC);
  EXPECT_THAT(api.error().message(), HasSubstr("archive_errno"));
}

}  // namespace
}  // namespace comet::image
