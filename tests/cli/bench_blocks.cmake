# `vgt bench blocks` end to end on a tiny video: the --json records of the
# named blocks, in order, with positive timings; an unknown block name and a
# malformed command line fail with a message.
#   cmake -DVGT=<vgt program> -DWORK_DIR=<dir> -P bench_blocks.cmake

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

include("${CMAKE_CURRENT_LIST_DIR}/run_vgt.cmake")

set(quick --shape 1,2,4,8,8 --reps 1 --min-time 0 --warmup 0)

run_vgt(TRUE bench blocks ${quick} --block frame_conv,tcn --json)
string(STRIP "${last_output}" records)
string(REPLACE "\n" ";" records "${records}")
list(LENGTH records count)
if(NOT count EQUAL 2)
  message(FATAL_ERROR "bench blocks --json: expected 2 lines, found ${count}:\n${last_output}")
endif()
set(expected_cases frame_conv tcn)
foreach(i RANGE 1)
  list(GET records ${i} record)
  list(GET expected_cases ${i} expected)
  string(JSON name ERROR_VARIABLE bad GET "${record}" case)
  if(bad OR NOT name STREQUAL expected)
    message(FATAL_ERROR "bench blocks --json: expected case '${expected}' on line ${i}, found '${record}'")
  endif()
  foreach(pass IN ITEMS fwd fwd_bwd)
    string(JSON median ERROR_VARIABLE bad GET "${record}" ${pass} median_ms)
    if(bad OR NOT median GREATER 0)
      message(FATAL_ERROR "bench blocks --json: expected a positive ${pass} median for ${expected}, found '${record}'")
    endif()
  endforeach()
endforeach()

# The table: a header and one row per block.
run_vgt(TRUE bench blocks ${quick} --block conv3d)
if(NOT last_output MATCHES "\n\\| conv3d \\| [0-9.]+ \\([0-9.]+–[0-9.]+\\) \\| [0-9.]+ ")
  message(FATAL_ERROR "bench blocks: expected a table row for conv3d, found:\n${last_output}")
endif()

run_vgt(FALSE bench blocks ${quick} --block frame_conv,no_such_block)
if(NOT last_error MATCHES "no_such_block" OR NOT last_error MATCHES "conv_lstm")
  message(FATAL_ERROR "unknown block: expected the name and the valid ones in the message, found '${last_error}'")
endif()
run_vgt(USAGE bench blocks ${quick} --reps none)
run_vgt(USAGE bench blocks --shape 1,2,4 --block tcn)
