# The agent's view of pods through the api-service: the v1alpha.PublicAPI client (api_client.h,
# gRPC), the kubelet's pod status computed from api Pods (pod_status.h), and kubectl-style
# `get pods` / `describe pod` text (describe.h, tab_writer.h). The client's test against the
# real comet-api-service is in tests/e2e/api (node_api_e2e_test).
list(APPEND NODE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/api_client.cc
  ${CMAKE_CURRENT_LIST_DIR}/describe.cc
  ${CMAKE_CURRENT_LIST_DIR}/pod_status.cc
  ${CMAKE_CURRENT_LIST_DIR}/tab_writer.cc)
list(APPEND NODE_TEST_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/api_client_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/describe_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/pod_status_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/tab_writer_test.cc)
list(APPEND NODE_DEPS comet_api_proto comet_kube nlohmann_json::nlohmann_json)
