# The agent itself (`comet node`, docs/node.md): desired state from the manifest directory
# (desired_pods, manifest_watch), observed state from the api-service and systemd
# (pod_attempts, pod_supervision_*), the sync loop and its pod operations, probes and hooks
# (agent*, probe_*, lifecycle_hooks, restart_policy), events and status files for describe, the
# comet commands it runs (comet_runner), and comet-node's command line and commands. The
# end-to-end tests against a real systemd are in tests/e2e/node.
list(APPEND NODE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/agent.cc
  ${CMAKE_CURRENT_LIST_DIR}/agent_gc.cc
  ${CMAKE_CURRENT_LIST_DIR}/agent_inbox.cc
  ${CMAKE_CURRENT_LIST_DIR}/agent_ops.cc
  ${CMAKE_CURRENT_LIST_DIR}/agent_pod_file.cc
  ${CMAKE_CURRENT_LIST_DIR}/agent_probes.cc
  ${CMAKE_CURRENT_LIST_DIR}/agent_sync.cc
  ${CMAKE_CURRENT_LIST_DIR}/comet_runner.cc
  ${CMAKE_CURRENT_LIST_DIR}/desired_pods.cc
  ${CMAKE_CURRENT_LIST_DIR}/event_recorder.cc
  ${CMAKE_CURRENT_LIST_DIR}/lifecycle_hooks.cc
  ${CMAKE_CURRENT_LIST_DIR}/manifest_watch.cc
  ${CMAKE_CURRENT_LIST_DIR}/node_command_line.cc
  ${CMAKE_CURRENT_LIST_DIR}/node_commands.cc
  ${CMAKE_CURRENT_LIST_DIR}/pod_attempts.cc
  ${CMAKE_CURRENT_LIST_DIR}/pod_supervision_direct.cc
  ${CMAKE_CURRENT_LIST_DIR}/pod_supervision_systemd.cc
  ${CMAKE_CURRENT_LIST_DIR}/probe_check.cc
  ${CMAKE_CURRENT_LIST_DIR}/probe_worker.cc
  ${CMAKE_CURRENT_LIST_DIR}/restart_policy.cc)
list(APPEND NODE_TEST_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/desired_pods_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/event_recorder_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/manifest_watch_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/node_command_line_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/pod_attempts_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/probe_check_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/restart_policy_test.cc)
list(APPEND NODE_DEPS comet_api_proto comet_kube CLI11::CLI11 Threads::Threads)
set_property(SOURCE ${CMAKE_CURRENT_LIST_DIR}/node_command_line.cc APPEND PROPERTY
             COMPILE_DEFINITIONS COMET_VERSION="${PROJECT_VERSION}")
