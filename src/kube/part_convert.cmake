# kube-convert: a Kubernetes Pod (objects.h) as a comet pod draft (to_comet.h) — env, downward
# API, resources and QoS, volumes, security context, DNS — and the host paths stage0 checks or
# creates (host_path.h). Paths are relative to src/kube.
list(APPEND KUBE_SOURCES
  container_convert.cc
  convert_internal.cc
  dns_convert.cc
  downward_api.cc
  env_resolve.cc
  expand.cc
  host_path.cc
  node_info.cc
  qos.cc
  resources_convert.cc
  security_convert.cc
  to_comet.cc
  volumes_convert.cc)
list(APPEND KUBE_TEST_SOURCES
  env_resolve_test.cc
  host_path_test.cc
  qos_test.cc
  security_convert_test.cc
  to_comet_test.cc
  volumes_convert_test.cc)
