# Warnings, hardening and sanitizers, applied to comet's own targets.
add_library(comet_warnings INTERFACE)
target_compile_options(comet_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wnon-virtual-dtor -Woverloaded-virtual
  -Wold-style-cast -Wimplicit-fallthrough -Wformat=2 -Wcast-qual -Wundef -Wnull-dereference)

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

# comet_layer(NAME SOURCES ... DEPS ...): one folder = one static library `comet_<NAME>`.
function(comet_layer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(comet_${name} STATIC ${ARG_SOURCES})
  target_include_directories(comet_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(comet_${name} PUBLIC ${ARG_DEPS} PRIVATE comet_warnings)
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
  gtest_discover_tests(${name}_test DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${ARG_LABELS}")
endfunction()
