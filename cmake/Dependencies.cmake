# Every third-party library comes from Debian 12 (see scripts/install-deps.sh).

# comet_import_static(TARGET ARCHIVE FROM): TARGET links ARCHIVE (a file name, e.g. libcap.a)
# with the include directories of the imported target FROM. `comet` starts every pod and the
# supervisor runs beside every pod: each shared library costs every start its loading and
# relocation (and the shared yaml-cpp brings the shared libstdc++, about 5000 relocations and its
# own static init, beside the copy these binaries link in). Debian's archives used here are
# position-independent, so they go into the PIE binaries as they are.
function(comet_import_static target archive from)
  find_library(COMET_ARCHIVE_${target} NAMES ${archive} REQUIRED)
  add_library(${target} STATIC IMPORTED GLOBAL)
  set_target_properties(${target} PROPERTIES IMPORTED_LOCATION "${COMET_ARCHIVE_${target}}")
  get_target_property(includes ${from} INTERFACE_INCLUDE_DIRECTORIES)
  if(includes)
    set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${includes}")
  endif()
endfunction()

find_package(Threads REQUIRED)
find_package(tl-expected CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(nlohmann_json 3.11 CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SECCOMP REQUIRED IMPORTED_TARGET libseccomp)
pkg_check_modules(LIBCAP REQUIRED IMPORTED_TARGET libcap)
pkg_check_modules(NETTLE REQUIRED IMPORTED_TARGET nettle)
comet_import_static(comet_seccomp_archive libseccomp.a PkgConfig::SECCOMP)
comet_import_static(comet_cap_archive libcap.a PkgConfig::LIBCAP)
comet_import_static(comet_nettle_archive libnettle.a PkgConfig::NETTLE)
if(BUILD_TESTING)
  find_package(GTest CONFIG REQUIRED)
endif()
# The image store: hashing, archives, decompression, registries.
find_package(LibArchive REQUIRED)
find_package(ZLIB REQUIRED)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
comet_import_static(comet_zlib_archive libz.a ZLIB::ZLIB)
comet_import_static(comet_zstd_archive libzstd.a PkgConfig::ZSTD)
find_package(CURL REQUIRED)
# The api-service (comet-api-service only: nothing else links gRPC): protobuf 3.21 and gRPC 1.51
# with protoc's C++ and gRPC plugins.
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
# Kubernetes YAML (comet play, comet node) and CDI specs: yaml-cpp 0.7 (the kube and cdi layers
# only: the supervisor links no YAML).
find_package(yaml-cpp CONFIG REQUIRED)
comet_import_static(comet_yaml_cpp libyaml-cpp.a yaml-cpp)
# The node agent drives systemd over D-Bus with sd-bus (comet-node only).
pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
