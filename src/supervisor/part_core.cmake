# supervisor-core: the supervisor's app lifecycle, app specs, pod setup, user lookup, and
# comet-supervisor's process setup.
list(APPEND SUPERVISOR_SOURCES
  app_spec.cc
  etc_stub_layer.cc
  pod_setup.cc
  pod_net.cc
  supervisor.cc
  supervisor_apps.cc
  supervisor_control.cc
  supervisor_events.cc
  supervisor_main.cc
  sub_paths.cc
  user_lookup.cc
  volume_seed.cc)
list(APPEND SUPERVISOR_TEST_SOURCES
  app_spec_test.cc
  etc_stub_layer_test.cc
  supervisor_apps_test.cc
  supervisor_main_test.cc
  user_lookup_test.cc)
list(APPEND SUPERVISOR_PRIVILEGED_TEST_SOURCES
  pod_setup_privileged_test.cc
  supervisor_privileged_test.cc)
