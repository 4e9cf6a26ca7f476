# Warnings, hardening and sanitizers, applied to comet's own targets.
add_library(comet_warnings INTERFACE)
target_compile_options(comet_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wnon-virtual-dtor -Woverloaded-virtual
  -Wold-style-cast -Wimplicit-fallthrough -Wformat=2 -Wcast-qual -Wundef -Wnull-dereference
  # clang's -Wconversion also covers sign changes; g++'s, the set the code is written to, not.
  $<$<CXX_COMPILER_ID:Clang>:-Wno-sign-conversion>)

set(COMET_SANITIZE "" CACHE STRING "Sanitizers to build with, e.g. address,undefined")
if(COMET_SANITIZE)
  add_compile_options(-fsanitize=${COMET_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${COMET_SANITIZE})
endif()

if(CMAKE_BUILD_TYPE STREQUAL "Debug")
  add_compile_definitions(_GLIBCXX_ASSERTIONS)
elseif(CMAKE_BUILD_TYPE MATCHES "Rel")
  add_compile_options(-fstack-protector-strong)
  add_compile_definitions(_FORTIFY_SOURCE=2)
endif()

# Precompiled headers: the standard library, fmt, nlohmann/json and tl::expected (cmake/pch/) are
# parsed once per build instead of once per file, which was most of a Debug compile; the test
# binaries share a second one that adds GoogleTest. Every C++ target takes one of the two with
# comet_precompile(TARGET [TEST]), reusing it (REUSE_FROM) rather than building its own; a
# precompiled header made with other flags is an error (-Winvalid-pch under -Werror), not a
# silent slow build. -pthread on every target keeps the flags, and so the headers, the same.
option(COMET_PCH "Precompile the common third-party headers (cmake/pch/)" ON)
add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-pthread>)
if(COMET_PCH)
  add_library(comet_pch OBJECT ${PROJECT_SOURCE_DIR}/cmake/pch/pch.cc)
  target_link_libraries(comet_pch PRIVATE comet_warnings)
  target_precompile_headers(comet_pch PRIVATE ${PROJECT_SOURCE_DIR}/cmake/pch/comet_pch.h)
  if(BUILD_TESTING)
    add_library(comet_test_pch OBJECT ${PROJECT_SOURCE_DIR}/cmake/pch/pch.cc)
    target_link_libraries(comet_test_pch PRIVATE comet_warnings GTest::gtest GTest::gmock)
    target_precompile_headers(comet_test_pch PRIVATE ${PROJECT_SOURCE_DIR}/cmake/pch/comet_test_pch.h)
  endif()
endif()

# comet_precompile(TARGET [TEST]): TARGET's C++ files start from the shared precompiled header.
function(comet_precompile target)
  if(NOT COMET_PCH)
    return()
  endif()
  if(ARGV1 STREQUAL "TEST")
    target_precompile_headers(${target} REUSE_FROM comet_test_pch)
  else()
    target_precompile_headers(${target} REUSE_FROM comet_pch)
  endif()
endfunction()

# comet_layer(NAME SOURCES ... DEPS ...): one folder = one static library `comet_<NAME>`.
function(comet_layer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(comet_${name} STATIC ${ARG_SOURCES})
  target_include_directories(comet_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(comet_${name} PUBLIC ${ARG_DEPS} PRIVATE comet_warnings)
  comet_precompile(comet_${name})
endfunction()

# comet_layer_test(NAME SOURCES ... DEPS ... [LABELS ...]): one gtest binary per layer.
function(comet_layer_test name)
  if(NOT BUILD_TESTING)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${name}_test ${ARG_SOURCES})
  target_link_libraries(${name}_test PRIVATE ${ARG_DEPS} comet_testing GTest::gtest_main
                                             GTest::gmock comet_warnings)
  comet_precompile(${name}_test TEST)
  gtest_discover_tests(${name}_test DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${ARG_LABELS}")
endfunction()
