# supervisor-io: the apps' streams (AppIo), control-socket connections and the control server.
list(APPEND SUPERVISOR_SOURCES app_io.cc console_listener.cc control_server.cc
     control_server_exec.cc exec_pipes.cc stream_connection.cc)
list(APPEND SUPERVISOR_TEST_SOURCES app_io_test.cc control_server_test.cc)
