# The registry client (libcurl): HTTP, auth, auth files, endpoints.
list(APPEND REGISTRY_SOURCES auth.cc auth_file.cc certs_dir.cc client.cc curl_api.cc endpoint.cc http.cc
     url.cc)
list(APPEND REGISTRY_TEST_SOURCES auth_test.cc client_test.cc client_auth_test.cc client_stream_test.cc
     curl_api_test.cc http_test.cc)
