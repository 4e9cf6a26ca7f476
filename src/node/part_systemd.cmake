# Pods as systemd units: the unit files (rktnetes' k8s_<uuid>.service) and the sd-bus client of
# systemd's manager. The privileged test boots a real systemd (tests/testing/systemd_instance.h).
list(APPEND NODE_SOURCES ${CMAKE_CURRENT_LIST_DIR}/systemd_manager.cc
     ${CMAKE_CURRENT_LIST_DIR}/unit_file.cc)
list(APPEND NODE_TEST_SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit_file_test.cc)
list(APPEND NODE_PRIVILEGED_TEST_SOURCES ${CMAKE_CURRENT_LIST_DIR}/systemd_manager_privileged_test.cc)
list(APPEND NODE_DEPS PkgConfig::LIBSYSTEMD)
