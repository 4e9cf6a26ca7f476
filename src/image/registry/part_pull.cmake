# Pulls (pull.h): resolving, downloading, resuming and unpacking images from a registry.
list(APPEND REGISTRY_SOURCES pull.cc pull_layers.cc)
list(APPEND REGISTRY_TEST_SOURCES pull_test.cc)
