# Layer decompression and the safe tar unpacker (unpack.h).
list(APPEND IMAGE_SOURCES decompress.cc layer_pipe.cc tree_writer.cc unpack.cc)
list(APPEND IMAGE_TEST_SOURCES unpack_test_util.cc unpack_test.cc unpack_hostile_test.cc
     unpack_golden_test.cc layer_pipe_test.cc)
list(APPEND IMAGE_PRIVILEGED_TEST_SOURCES unpack_test_util.cc unpack_privileged_test.cc)
