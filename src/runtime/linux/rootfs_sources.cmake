# The rootfs part of comet_runtime (mounts, devices, pivot_root, masked/readonly paths),
# included by src/runtime/CMakeLists.txt. rootfs_test.cc holds unit tests, rootfs_apply_test.cc
# privileged ones (root, and root emulating rootless in a user namespace).
set(COMET_ROOTFS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/mount_options.cc
  ${CMAKE_CURRENT_LIST_DIR}/rootfs_cgroup.cc
  ${CMAKE_CURRENT_LIST_DIR}/rootfs_escape.cc
  ${CMAKE_CURRENT_LIST_DIR}/rootfs_mounts.cc
  ${CMAKE_CURRENT_LIST_DIR}/rootfs_pivot.cc
  ${CMAKE_CURRENT_LIST_DIR}/rootfs_plan.cc
  ${CMAKE_CURRENT_LIST_DIR}/safe_path.cc)
set(COMET_ROOTFS_TESTS
  ${CMAKE_CURRENT_LIST_DIR}/rootfs_escape_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/rootfs_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/rootfs_apply_test.cc)
