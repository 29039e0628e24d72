# `vgt edit` end to end: a tiny structure- and content-conditioned model
# trained for two steps on MovingShapes, then a MovingShapes clip from
# `vgt data preview` edited into a video of the same size (the input larger
# than the model's frames, so it is resized); bad input must fail with a
# message, not a crash.
#   cmake -DVGT=<vgt program> -DWORK_DIR=<dir> [-DWITH_FFMPEG=ON] -P edit.cmake

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

include("${CMAKE_CURRENT_LIST_DIR}/run_vgt.cmake")

# structure: 1 adds the structure channel (unet.in_channels 3 + 1); content: 1 adds content tokens.
function(write_config name structure in_channels content)
  file(WRITE "${WORK_DIR}/${name}.json" "{
  \"model\": \"gen1\",
  \"unet\": {\"in_channels\": ${in_channels}, \"base_channels\": 8, \"channel_mult\": [1, 2], \"res_blocks\": 1,
           \"attention_levels\": [1], \"heads\": 2, \"temporal_heads\": 2, \"context_dim\": 16, \"time_embed_dim\": 16},
  \"text_encoder\": {\"vocab_limit\": 64, \"max_length\": 12, \"width\": 16, \"layers\": 1, \"heads\": 2},
  \"time_embedding\": {\"frequency_channels\": 16, \"width\": 16},
  \"diffusion\": {\"timesteps\": 100, \"sample_steps\": 3},
  \"data\": {\"moving_shapes\": {\"frames\": 2, \"height\": 8, \"width\": 8, \"min_size\": 3, \"max_size\": 5,
                                \"max_objects\": 1}},
  \"optim\": {\"lr_schedule\": {\"total_steps\": 100}, \"ema\": {\"decay\": 0.9}},
  \"training\": {\"steps\": 2, \"batch_size\": 2, \"log_every\": 1, \"sample_every\": 0,
                \"checkpoint_every\": 0, \"vocab_clips\": 16, \"output_dir\": \"${WORK_DIR}/${name}\"},
  \"conditioning\": {\"structure\": ${structure}, \"max_structure_level\": 2, \"structure_dropout\": 0.1,
                    \"content\": ${content}, \"content_encoder\": {\"channels\": [4, 8], \"tokens\": 2, \"width\": 16}}
}")
endfunction()

write_config(gen1 true 4 true)
run_vgt(TRUE train --config "${WORK_DIR}/gen1.json")
set(checkpoint "${WORK_DIR}/gen1/checkpoint.safetensors")
if(NOT EXISTS "${checkpoint}")
  message(FATAL_ERROR "vgt train: expected ${checkpoint}, found none")
endif()

# A 16×16 clip of 3 frames: edit its first 2 frames, resized to 8×8.
set(clip "${WORK_DIR}/clip.npy")
run_vgt(TRUE data preview --dataset moving-shapes --count 1 --frames 3 --size 16 --out "${clip}")
run_vgt(TRUE edit --checkpoint "${checkpoint}" --input "${clip}" --prompt "a blue square moving up"
        --out "${WORK_DIR}/e.npy" --structure-level 1 --steps 2 --guidance 2 --temporal-guidance 0.5 --seed 3)
if(NOT EXISTS "${WORK_DIR}/e.npy" OR NOT last_output MATCHES "2 frames of 8x8 edited from .* at structure level 1, step 2 \\(EMA weights\\)")
  message(FATAL_ERROR "vgt edit: expected e.npy of 2 frames of 8x8, found '${last_output}'")
endif()
run_vgt(TRUE edit --checkpoint "${checkpoint}" --input "${clip}" --prompt "a red circle" --out "${WORK_DIR}/f.npy"
        --frames 3 --sampler dpm-solver++2m --no-ema)
if(NOT last_output MATCHES "3 frames of 8x8.*training weights")
  message(FATAL_ERROR "vgt edit --frames 3 --no-ema: expected 3 frames, training weights, found '${last_output}'")
endif()
if(WITH_FFMPEG)
  set(reference "${WORK_DIR}/reference.png")
  run_vgt(TRUE data preview --dataset moving-shapes --count 1 --frames 1 --size 8 --seed 5 --out "${reference}")
  run_vgt(TRUE data preview --dataset moving-shapes --count 1 --frames 4 --size 16 --out "${WORK_DIR}/clip.gif")
  run_vgt(TRUE edit --checkpoint "${checkpoint}" --input "${WORK_DIR}/clip.gif" --prompt "a red circle"
          --reference "${reference}" --out "${WORK_DIR}/e.gif" --steps 2 --fps 4)
  if(NOT EXISTS "${WORK_DIR}/e.gif")
    message(FATAL_ERROR "vgt edit: expected e.gif, found none")
  endif()
endif()

# Bad input: a message, exit status 1.
run_vgt(FALSE edit --checkpoint "${checkpoint}" --input "${clip}" --prompt x --out "${WORK_DIR}/x.npy" --frames 4)
if(NOT last_error MATCHES "expected at least 4 frames")
  message(FATAL_ERROR "too few frames: expected the frame count in the message, found '${last_error}'")
endif()
run_vgt(FALSE edit --checkpoint "${checkpoint}" --input "${WORK_DIR}/missing.npy" --prompt x --out "${WORK_DIR}/x.npy")
run_vgt(USAGE edit --checkpoint "${checkpoint}" --input "${clip}" --prompt x --out "${WORK_DIR}/x.npy" --guidance lots)
run_vgt(USAGE edit --checkpoint "${checkpoint}" --input "${clip}" --prompt x --out "${WORK_DIR}/x.npy" --strength 1)
run_vgt(USAGE edit --checkpoint "${checkpoint}" --input "${clip}" --out "${WORK_DIR}/x.npy")
run_vgt(USAGE edit --checkpoint "${checkpoint}" --input "${clip}" --prompt x --out "${WORK_DIR}/x.npy"
        --structure-level -1)

# A text-only checkpoint cannot edit.
write_config(plain false 3 false)
run_vgt(TRUE train --config "${WORK_DIR}/plain.json")
run_vgt(FALSE edit --checkpoint "${WORK_DIR}/plain/checkpoint.safetensors" --input "${clip}" --prompt x
        --out "${WORK_DIR}/x.npy")
if(NOT last_error MATCHES "was trained without structure conditioning; train with conditioning.structure = true")
  message(FATAL_ERROR "text-only checkpoint: expected the structure message, found '${last_error}'")
endif()
