# supervisor-io's part of comet_pod: CRI logs and the control socket (wire format + client).
list(APPEND POD_SOURCES cri_log.cc control.cc control_json.cc control_stream.cc)
list(APPEND POD_TEST_SOURCES cri_log_test.cc control_test.cc)
