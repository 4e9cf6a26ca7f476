# pod-devices: an app's devices in the pod manifest (--device, CDI): their JSON and checks.
list(APPEND POD_SOURCES manifest_devices.cc)
list(APPEND POD_TEST_SOURCES manifest_devices_test.cc)
