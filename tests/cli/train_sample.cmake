# `vgt train` and `vgt sample` end to end: a tiny text-to-video model trained
# for a few steps on MovingShapes, resumed to more steps, then sampled; bad
# input must fail with a message, not a crash.
#   cmake -DVGT=<vgt program> -DWORK_DIR=<dir> [-DWITH_FFMPEG=ON] -P train_sample.cmake

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

include("${CMAKE_CURRENT_LIST_DIR}/run_vgt.cmake")

set(run "${WORK_DIR}/run")
set(checkpoint "${run}/checkpoint.safetensors")
function(write_config steps)
  file(WRITE "${WORK_DIR}/train.json" "{
  \"model\": \"gen1\",
  \"unet\": {\"base_channels\": 8, \"channel_mult\": [1, 2], \"res_blocks\": 1, \"attention_levels\": [1],
           \"heads\": 2, \"temporal_heads\": 2, \"context_dim\": 16, \"time_embed_dim\": 16},
  \"text_encoder\": {\"vocab_limit\": 64, \"max_length\": 12, \"width\": 16, \"layers\": 1, \"heads\": 2},
  \"time_embedding\": {\"frequency_channels\": 16, \"width\": 16},
  \"diffusion\": {\"timesteps\": 100, \"sample_steps\": 3},
  \"data\": {\"moving_shapes\": {\"frames\": 2, \"height\": 8, \"width\": 8, \"min_size\": 3, \"max_size\": 5,
                                \"max_objects\": 1}},
  \"optim\": {\"lr_schedule\": {\"total_steps\": 100}},
  \"training\": {\"steps\": ${steps}, \"batch_size\": 2, \"log_every\": 1, \"sample_every\": 0,
                \"checkpoint_every\": 0, \"vocab_clips\": 16, \"output_dir\": \"${run}\"}
}")
endfunction()

write_config(2)
run_vgt(TRUE train --config "${WORK_DIR}/train.json")
if(NOT EXISTS "${checkpoint}")
  message(FATAL_ERROR "vgt train: expected ${checkpoint}, found none")
endif()
write_config(3)
run_vgt(TRUE train --config "${WORK_DIR}/train.json")
if(NOT last_output MATCHES "resuming from step 2" OR NOT last_output MATCHES "trained to step 3")
  message(FATAL_ERROR "vgt train again: expected a resume from step 2 to step 3, found '${last_output}'")
endif()
file(STRINGS "${run}/metrics.jsonl" lines)
list(LENGTH lines count)
if(NOT count EQUAL 3)
  message(FATAL_ERROR "metrics.jsonl: expected 3 lines, found ${count}")
endif()

run_vgt(TRUE sample --checkpoint "${checkpoint}" --prompt "a red circle moving left" --out "${WORK_DIR}/s.npy"
        --frames 3 --steps 2 --guidance 2 --temporal-guidance 0.5 --seed 4)
if(NOT EXISTS "${WORK_DIR}/s.npy" OR NOT last_output MATCHES "3 frames of 8x8 from step 3")
  message(FATAL_ERROR "vgt sample: expected s.npy of 3 frames, found '${last_output}'")
endif()
if(WITH_FFMPEG)
  run_vgt(TRUE sample --checkpoint "${checkpoint}" --prompt "a blue square" --out "${WORK_DIR}/s.gif")
endif()

# Without --checkpoint, the model bundled in examples/models/.
run_vgt(TRUE sample --prompt "a red circle moving left" --out "${WORK_DIR}/bundled.npy" --steps 2 --seed 1)
if(NOT EXISTS "${WORK_DIR}/bundled.npy" OR NOT last_output MATCHES "8 frames of 32x32")
  message(FATAL_ERROR "vgt sample without --checkpoint: expected 8 frames of 32x32 from the bundled model, found '${last_output}'")
endif()

# An exported model samples the same video with a quarter of the bytes.
run_vgt(TRUE export --checkpoint "${checkpoint}" --out "${WORK_DIR}/model.safetensors")
file(SIZE "${checkpoint}" checkpoint_bytes)
file(SIZE "${WORK_DIR}/model.safetensors" model_bytes)
math(EXPR model_bytes_times_3 "${model_bytes} * 3")
if(NOT model_bytes_times_3 LESS checkpoint_bytes)
  message(FATAL_ERROR "vgt export: expected under a third of the checkpoint's ${checkpoint_bytes} bytes, found ${model_bytes}")
endif()
run_vgt(TRUE sample --checkpoint "${WORK_DIR}/model.safetensors" --prompt "a red circle moving left"
        --out "${WORK_DIR}/s_exported.npy" --frames 3 --steps 2 --guidance 2 --temporal-guidance 0.5 --seed 4)
file(SHA256 "${WORK_DIR}/s.npy" from_checkpoint)
file(SHA256 "${WORK_DIR}/s_exported.npy" from_export)
if(NOT from_checkpoint STREQUAL from_export)
  message(FATAL_ERROR "vgt export: the exported model samples another video than its checkpoint's EMA weights")
endif()
run_vgt(FALSE export --checkpoint "${WORK_DIR}/missing.safetensors" --out "${WORK_DIR}/m.safetensors")
run_vgt(USAGE export --checkpoint "${checkpoint}")

# Bad input: a message, exit status 1.
run_vgt(FALSE train --config "${WORK_DIR}/missing.json")
file(WRITE "${WORK_DIR}/bad.json" "{\"training\": {\"stepz\": 1}}")
run_vgt(FALSE train --config "${WORK_DIR}/bad.json")
if(NOT last_error MATCHES "unknown key 'stepz'")
  message(FATAL_ERROR "bad config: expected the unknown key in the message, found '${last_error}'")
endif()
run_vgt(FALSE sample --checkpoint "${WORK_DIR}/missing.safetensors" --prompt x --out "${WORK_DIR}/x.npy")
run_vgt(FALSE sample --checkpoint "${checkpoint}" --prompt x --out "${WORK_DIR}/x.npy" --sampler heun)
run_vgt(USAGE sample --checkpoint "${checkpoint}" --prompt x --out "${WORK_DIR}/x.npy" --guidance lots)
