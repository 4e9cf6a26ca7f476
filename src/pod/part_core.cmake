# pod-core: the manifest, the pods directory (phases, locks, renames), the pod directory's status
# files, and teardown. Paths are relative to src/pod.
list(APPEND POD_SOURCES
  json_fields.cc
  manifest.cc
  manifest_validate.cc
  manifest_net.cc
  pod_networks.cc
  mount_table.cc
  phase_dir.cc
  pod_dir.cc
  pod_store.cc
  pod_store_list.cc
  restart_backoff.cc
  spare_pod_dir.cc
  teardown.cc
  volatile_dir.cc)
list(APPEND POD_TEST_SOURCES
  manifest_test.cc
  mount_table_test.cc
  pod_dir_test.cc
  pod_store_test.cc
  restart_backoff_test.cc
  spare_pod_dir_test.cc)
list(APPEND POD_TEST_SOURCES teardown_test.cc volatile_dir_test.cc)
list(APPEND POD_PRIVILEGED_TEST_SOURCES teardown_privileged_test.cc)
