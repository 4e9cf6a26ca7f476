# A real registry for tests (docker-registry, htpasswd, TLS, a token server) and test images
# pushed to it with skopeo.
list(APPEND IMAGE_TESTING_SOURCES registry_server.cc registry_server_setup.cc test_images.cc)
set_source_files_properties(
  ${CMAKE_CURRENT_SOURCE_DIR}/registry_server_setup.cc
  PROPERTIES COMPILE_DEFINITIONS COMET_TOKEN_SERVER="${CMAKE_CURRENT_SOURCE_DIR}/token_server.py")
