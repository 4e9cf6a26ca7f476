# Every third-party library comes from Debian 12 (see scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(tl-expected CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(nlohmann_json 3.11 CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SECCOMP REQUIRED IMPORTED_TARGET libseccomp)
pkg_check_modules(LIBCAP REQUIRED IMPORTED_TARGET libcap)
pkg_check_modules(NETTLE REQUIRED IMPORTED_TARGET nettle)
if(BUILD_TESTING)
  find_package(GTest CONFIG REQUIRED)
endif()
# The image store: hashing, archives, decompression, registries.
find_package(LibArchive REQUIRED)
find_package(ZLIB REQUIRED)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
find_package(CURL REQUIRED)
# The api-service (comet-api-service only: nothing else links gRPC): protobuf 3.21 and gRPC 1.51
# with protoc's C++ and gRPC plugins.
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
# Kubernetes YAML (comet play, comet node) and CDI specs: yaml-cpp 0.7 (the kube and cdi layers
# only: the supervisor links no YAML).
find_package(yaml-cpp CONFIG REQUIRED)
# The node agent drives systemd over D-Bus with sd-bus (comet-node only).
pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
