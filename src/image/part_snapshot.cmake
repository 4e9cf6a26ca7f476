# Snapshots (overlay mounts or copies of layer trees) and user namespaces for rootless image work.
list(APPEND IMAGE_SOURCES snapshot.cc snapshot_copy.cc snapshot_mount.cc snapshot_spare.cc
     userns.cc)
list(APPEND IMAGE_TEST_SOURCES userns_test.cc)
list(APPEND IMAGE_PRIVILEGED_TEST_SOURCES snapshot_privileged_test.cc snapshot_test_trees.cc
            snapshot_userns_privileged_test.cc)
