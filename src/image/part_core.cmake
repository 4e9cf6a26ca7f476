# The pure parts of the image layer: references, manifests, indexes, configs and platforms.
list(APPEND IMAGE_SOURCES reference.cc manifest.cc manifest_json.cc manifest_config.cc
     manifest_write.cc platform.cc)
list(APPEND IMAGE_TEST_SOURCES digest_test.cc reference_test.cc manifest_test.cc
     manifest_config_test.cc platform_test.cc)
