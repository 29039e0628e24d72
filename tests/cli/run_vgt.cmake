# Shared by the vgt program's end-to-end tests (cmake -P scripts):
# run_vgt(TRUE args...) runs `${VGT} args...` and fails unless it succeeds;
# run_vgt(FALSE args...) fails unless it exits with status 1 and a message
# on stderr (an error, not a crash). Leaves last_output and last_error set.

function(run_vgt expect_success)
  execute_process(COMMAND "${VGT}" ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(expect_success AND NOT rc EQUAL 0)
    message(FATAL_ERROR "vgt ${ARGN}\nexited with ${rc}:\n${out}${err}")
  endif()
  if(NOT expect_success)
    if(rc EQUAL 0)
      message(FATAL_ERROR "vgt ${ARGN}\nsucceeded, expected an error")
    endif()
    if(NOT rc EQUAL 1 OR err STREQUAL "")
      message(FATAL_ERROR "vgt ${ARGN}\nexpected exit status 1 and a message, found ${rc}: '${err}'")
    endif()
  endif()
  set(last_output "${out}" PARENT_SCOPE)
  set(last_error "${err}" PARENT_SCOPE)
endfunction()
