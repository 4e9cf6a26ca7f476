# supervisor-spec: the app spec handed to the runtime in memory.
list(APPEND SUPERVISOR_TEST_SOURCES app_spec_roundtrip_test.cc)
