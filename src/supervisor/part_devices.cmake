# supervisor-devices: an app's devices, bind mounts and hooks (--device, CDI) in its OCI spec.
list(APPEND SUPERVISOR_SOURCES app_devices.cc)
list(APPEND SUPERVISOR_TEST_SOURCES app_devices_test.cc)
