# Configures, builds and runs tests/consumer against vgt in one of two modes:
#   find_package      — installs vgt from VGT_BINARY_DIR into a prefix first;
#   add_subdirectory  — includes the source tree directly.
file(REMOVE_RECURSE "${WORK_DIR}")
set(common -G Ninja -DCMAKE_BUILD_TYPE=Release -DVGT_WITH_CUDA=OFF -DVGT_DEPS_DIR=${VGT_DEPS_DIR})
if(MODE STREQUAL "find_package")
  execute_process(COMMAND ${CMAKE_COMMAND} --install "${VGT_BINARY_DIR}" --prefix "${WORK_DIR}/prefix"
                  RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "cmake --install failed (${rc})")
  endif()
  list(APPEND common "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix")
else()
  list(APPEND common -DVGT_CONSUME_MODE=add_subdirectory "-DVGT_SOURCE_DIR=${VGT_SOURCE_DIR}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} ${common} -S "${CMAKE_CURRENT_LIST_DIR}" -B "${WORK_DIR}/build"
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer (${MODE}) failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build "${WORK_DIR}/build" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer (${MODE}) failed (${rc})")
endif()
execute_process(COMMAND "${WORK_DIR}/build/consumer" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the consumer (${MODE}) returned ${rc}")
endif()
