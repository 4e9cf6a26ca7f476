# The image store (store.h): blobs, images, layer trees, leases and gc.
list(APPEND IMAGE_SOURCES store.cc store_layer_marks.cc store_blobs.cc store_fs.cc store_gc.cc store_images.cc
     store_index.cc store_lease.cc store_lease_release.cc)
list(APPEND IMAGE_TEST_SOURCES store_test_util.cc store_layer_marks_test.cc store_blobs_test.cc store_images_test.cc
     store_gc_test.cc store_skopeo_test.cc)
