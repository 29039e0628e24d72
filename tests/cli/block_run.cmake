# `vgt block run` end to end: weights drawn from a seed and saved, then loaded
# back, must reproduce the output byte for byte; bad input must fail with a
# message, not a crash.
#   cmake -DVGT=<vgt program> -DINPUT=<video.npy> -DINPUT64=<float64 video.npy> -DFLOW=<flow.npy> -DFLOW_WARP_WEIGHTS=<weights> -DWORK_DIR=<dir> -P block_run.cmake

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

include("${CMAKE_CURRENT_LIST_DIR}/run_vgt.cmake")

foreach(config IN ITEMS
    "--stage;Conv3D;--mixer;DirectedAttention;--position;RoPE"
    "--stage;AdapterConv2D;--mixer;ConvLSTM"
    "--mixer;TCN"
    "--stage;Conv2Plus1D;--mixer;SpatioTemporalAttention;--position;ALiBi;--causal")
  string(REPLACE ";" "_" tag "${config}")
  set(common ${config} --channels 8 --heads 2 --input "${INPUT}")
  run_vgt(TRUE block run ${common} --seed 11 --output "${WORK_DIR}/${tag}_seed.npy"
          --save-weights "${WORK_DIR}/${tag}.safetensors")
  run_vgt(TRUE block run ${common} --weights "${WORK_DIR}/${tag}.safetensors" --output "${WORK_DIR}/${tag}_loaded.npy")
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${WORK_DIR}/${tag}_seed.npy" "${WORK_DIR}/${tag}_loaded.npy"
                  RESULT_VARIABLE differ)
  if(differ)
    message(FATAL_ERROR "block run ${config}: output with loaded weights differs from the seeded run")
  endif()
endforeach()

# FlowWarp with random weights: an external flow at another resolution changes the output.
run_vgt(TRUE block run --mixer FlowWarp --channels 8 --input "${INPUT}" --weights "${FLOW_WARP_WEIGHTS}"
        --output "${WORK_DIR}/fw_head.npy")
run_vgt(TRUE block run --mixer FlowWarp --channels 8 --input "${INPUT}" --weights "${FLOW_WARP_WEIGHTS}"
        --flow "${FLOW}" --output "${WORK_DIR}/fw_external.npy")
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${WORK_DIR}/fw_head.npy" "${WORK_DIR}/fw_external.npy"
                RESULT_VARIABLE differ)
if(NOT differ)
  message(FATAL_ERROR "FlowWarp --flow: the external flow did not change the output")
endif()
run_vgt(FALSE block run --mixer TCN --channels 8 --input "${INPUT}" --seed 5 --output "${WORK_DIR}/x.npy" --flow "${FLOW}")

# Errors: each must name what was expected.
run_vgt(FALSE block run --mixer Nonsense --channels 8 --input "${INPUT}" --output "${WORK_DIR}/x.npy" --seed 1)
if(NOT last_error MATCHES "TemporalAttention")
  message(FATAL_ERROR "unknown mixer: expected the valid names in the message, found '${last_error}'")
endif()
run_vgt(FALSE block run --mixer TCN --channels 4 --input "${INPUT}" --output "${WORK_DIR}/x.npy" --seed 1)
run_vgt(FALSE block run --mixer TCN --channels 8 --input "${WORK_DIR}/missing.npy" --output "${WORK_DIR}/x.npy" --seed 1)
run_vgt(FALSE block run --mixer TCN --position RoPE --channels 8 --input "${INPUT}" --output "${WORK_DIR}/x.npy" --seed 1)
run_vgt(FALSE block run --mixer TCN --channels 8 --input "${INPUT}" --output "${WORK_DIR}/x.npy")
run_vgt(USAGE block run --mixer TCN --channels 8 --input "${INPUT}" --output "${WORK_DIR}/x.npy" --seed 1 --hedas 2)
run_vgt(FALSE block run --mixer ConvLSTM --channels 8 --input "${INPUT}" --output "${WORK_DIR}/x.npy"
        --weights "${WORK_DIR}/--mixer_TCN.safetensors")
run_vgt(USAGE blocks --shape 2,8,64)
# float64 input runs both slots
run_vgt(TRUE block run --stage FrameConv --mixer TCN --channels 8 --input "${INPUT64}" --output "${WORK_DIR}/y64.npy" --seed 2)
run_vgt(TRUE blocks --shape 1,4,8,6,6 --heads 2 --json)
# A weights file holding more than the named blocks use is refused.
run_vgt(FALSE block run --mixer DirectedAttention --position RoPE --channels 8 --heads 2 --input "${INPUT}"
        --output "${WORK_DIR}/x.npy" --weights "${WORK_DIR}/--stage_Conv3D_--mixer_DirectedAttention_--position_RoPE.safetensors")
if(NOT last_error MATCHES "expected [0-9]+ tensors")
  message(FATAL_ERROR "extra weights: expected a message counting the tensors, found '${last_error}'")
endif()
