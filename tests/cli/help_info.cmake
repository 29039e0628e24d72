# `vgt help`, every command's --help, `vgt info`, and the exit statuses of a
# malformed command line. Run by ctest as a cmake -P script with
# -DVGT=<the vgt program> -DVERSION=<the project's version>.

include(${CMAKE_CURRENT_LIST_DIR}/run_vgt.cmake)

set(commands info blocks "block run" "bench blocks" "data preview" flow metrics train sample edit evaluate export ablate)

run_vgt(TRUE help)
set(overview "${last_output}")
string(REGEX MATCHALL "\n  [a-z][a-z ]*[a-z]  +" listed "${overview}")
list(LENGTH listed listed_count)
list(LENGTH commands command_count)
math(EXPR expected_count "${command_count} + 1")  # and `help` itself
if(NOT listed_count EQUAL expected_count)
  message(FATAL_ERROR "vgt help lists ${listed_count} commands, expected ${expected_count}:\n${overview}")
endif()

foreach(command IN LISTS commands)
  if(NOT overview MATCHES "\n  ${command}  ")
    message(FATAL_ERROR "vgt help does not list '${command}':\n${overview}")
  endif()
  string(REPLACE " " ";" words "${command}")
  run_vgt(TRUE ${words} --help)
  if(NOT last_output MATCHES "^vgt ${command}" OR NOT last_output MATCHES "Exit status")
    message(FATAL_ERROR "vgt ${command} --help: expected its usage and the exit statuses, found:\n${last_output}")
  endif()
  set(from_flag "${last_output}")
  run_vgt(TRUE help ${words})
  if(NOT last_output STREQUAL from_flag)
    message(FATAL_ERROR "vgt help ${command} differs from vgt ${command} --help")
  endif()
endforeach()

# --help wins over anything else on the line, even flags the command lacks.
run_vgt(TRUE train --config missing.json --bogus --help)

# A malformed command line exits with 2, a failed command with 1.
execute_process(COMMAND "${VGT}" RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 2 OR NOT out MATCHES "Commands:")
  message(FATAL_ERROR "vgt without a command: expected the overview and status 2, found ${rc}")
endif()
run_vgt(USAGE nonsense)
if(NOT last_error MATCHES "expected a command \\(info, blocks")
  message(FATAL_ERROR "vgt nonsense: expected the list of commands, found: ${last_error}")
endif()
run_vgt(USAGE help nonsense)
run_vgt(USAGE data nonsense)
run_vgt(USAGE info --json --bogus 1)
if(NOT last_error MATCHES "vgt info: unknown flag --bogus \\(see `vgt info --help`\\)")
  message(FATAL_ERROR "vgt info --bogus 1: unexpected message: ${last_error}")
endif()
run_vgt(USAGE train)
run_vgt(USAGE info --threads many)
run_vgt(FALSE train --config "${CMAKE_CURRENT_LIST_DIR}/no-such-config.json")

# vgt info, as text and as JSON.
run_vgt(TRUE info)
if(NOT last_output MATCHES "^vgt ${VERSION}\n" OR NOT last_output MATCHES "CUDA" OR NOT last_output MATCHES "FFmpeg")
  message(FATAL_ERROR "vgt info: expected the version ${VERSION}, CUDA and FFmpeg lines, found:\n${last_output}")
endif()
run_vgt(TRUE info --json --threads 1)
string(JSON version GET "${last_output}" version)
string(JSON threads GET "${last_output}" threads)
string(JSON gpus TYPE "${last_output}" gpus)
string(JSON cuda GET "${last_output}" cuda)
if(NOT version STREQUAL VERSION OR NOT threads EQUAL 1 OR NOT gpus STREQUAL "ARRAY")
  message(FATAL_ERROR "vgt info --json: expected version ${VERSION}, threads 1 and a gpus array, found:\n${last_output}")
endif()
string(JSON gpu_count LENGTH "${last_output}" gpus)
if(gpu_count EQUAL 0)
  string(JSON why GET "${last_output}" no_gpu_because)
  message(STATUS "vgt info: no GPU (${why})")
endif()
