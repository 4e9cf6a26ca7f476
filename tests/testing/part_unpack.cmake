# Tar streams for the layer unpacker's tests (tar_builder.h).
list(APPEND IMAGE_TESTING_SOURCES tar_builder.cc)
