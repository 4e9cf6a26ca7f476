# rkt's ImageFilter matching (image_filter.h; its sources are listed in part_catalog.cmake).
list(APPEND API_TEST_SOURCES image_filter_test.cc)
