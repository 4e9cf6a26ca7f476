# Shared libraries loaded on first use (dlopen through os/dynamic_library.h): libarchive's
# function table (archive_api.h).
list(APPEND IMAGE_SOURCES archive_api.cc)
list(APPEND IMAGE_TEST_SOURCES archive_api_test.cc)
