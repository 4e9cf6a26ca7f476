# kube-parse: Kubernetes quantities, the YAML/JSON node tree with its limits, the path-tracking
# reader, and the Pod/workload/ConfigMap/Secret parser (yaml_parse.h). Paths are relative to
# src/kube.
list(APPEND KUBE_SOURCES
  quantity.cc
  validation.cc
  yaml_builder.cc
  yaml_container.cc
  yaml_json.cc
  yaml_load.cc
  yaml_objects.cc
  yaml_parse.cc
  yaml_pod_spec.cc
  yaml_prescan.cc
  yaml_probe.cc
  yaml_reader.cc
  yaml_security.cc
  yaml_tree.cc
  yaml_volumes.cc)
list(APPEND KUBE_TEST_SOURCES
  quantity_test.cc
  yaml_load_test.cc
  yaml_parse_test.cc
  yaml_tree_test.cc
  yaml_validation_test.cc)
