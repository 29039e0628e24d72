# Shared by the vgt program's end-to-end tests (cmake -P scripts):
# run_vgt(TRUE args...) runs `${VGT} args...` and fails unless it succeeds;
# run_vgt(FALSE args...) fails unless it exits with status 1 (the work
# failed: a file, config or value it could not use) and a message on stderr;
# run_vgt(USAGE args...) fails unless it exits with status 2 (a malformed
# command line) and a message on stderr. Leaves last_output and last_error set.

function(run_vgt expect)
  execute_process(COMMAND "${VGT}" ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(expect STREQUAL "USAGE")
    set(wanted 2)
  elseif(expect)
    set(wanted 0)
  else()
    set(wanted 1)
  endif()
  if(NOT rc EQUAL wanted)
    message(FATAL_ERROR "vgt ${ARGN}\nexpected exit status ${wanted}, found ${rc}:\n${out}${err}")
  endif()
  if(NOT wanted EQUAL 0 AND err STREQUAL "")
    message(FATAL_ERROR "vgt ${ARGN}\nexited with ${rc} but wrote no message on stderr")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
  set(last_error "${err}" PARENT_SCOPE)
endfunction()
