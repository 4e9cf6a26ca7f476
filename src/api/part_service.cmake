# The service (service.cc, service_logs.cc) and the Error -> grpc::Status mapping.
list(APPEND API_SOURCES service.cc service_logs.cc status_mapping.cc)
list(APPEND API_TEST_SOURCES service_logs_test.cc status_mapping_test.cc)
