# `vgt ablate` end to end: the compiled list, a two-variant quick ablation of
# tiny models (its reports and the variants' runs), and the errors of a bad
# config or command line.
#   cmake -DVGT=<vgt program> -DWORK_DIR=<dir> -P ablate.cmake

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

include("${CMAKE_CURRENT_LIST_DIR}/run_vgt.cmake")

run_vgt(TRUE ablate --list)
foreach(name "Conv3D+NoMixer" "AdapterConv2D+DirectedAttention" "FrameConv+TemporalAttention<RoPE>" "FrameConv+ConvLSTM")
  string(FIND "${last_output}" "${name}\n" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "vgt ablate --list: expected '${name}', found:\n${last_output}")
  endif()
endforeach()

function(write_config path variants)
  file(WRITE "${path}" "{
  \"name\": \"cli\",
  \"variants\": [${variants}],
  \"train\": {
    \"unet\": {\"base_channels\": 8, \"channel_mult\": [1, 2], \"res_blocks\": 1, \"attention_levels\": [1],
             \"heads\": 2, \"temporal_heads\": 2, \"context_dim\": 16, \"time_embed_dim\": 16},
    \"text_encoder\": {\"vocab_limit\": 64, \"max_length\": 12, \"width\": 16, \"layers\": 1, \"heads\": 2},
    \"time_embedding\": {\"frequency_channels\": 16, \"width\": 16},
    \"diffusion\": {\"timesteps\": 100, \"sample_steps\": 2},
    \"data\": {\"moving_shapes\": {\"frames\": 2, \"height\": 8, \"width\": 8, \"min_size\": 3, \"max_size\": 5,
                                  \"max_objects\": 1}},
    \"training\": {\"steps\": 500, \"batch_size\": 2, \"sample_every\": 0, \"checkpoint_every\": 0,
                  \"vocab_clips\": 16, \"progress\": \"lines\"}
  },
  \"evaluation\": {\"prompts\": 40, \"batch\": 2},
  \"output_dir\": \"${WORK_DIR}/full\",
  \"quick\": {\"train\": {\"training\": {\"steps\": 2}}, \"evaluation\": {\"prompts\": 2}}
}")
endfunction()

write_config("${WORK_DIR}/ablation.json" "\"FrameConv+NoMixer\", \"Conv3D+NoMixer\"")
run_vgt(TRUE ablate --config "${WORK_DIR}/ablation.json" --quick --out "${WORK_DIR}/quick" --threads 1)
if(NOT last_output MATCHES "2 variants; report: .*/quick/report.md")
  message(FATAL_ERROR "vgt ablate: expected a summary naming the report, found:\n${last_output}")
endif()
if(NOT last_error MATCHES "variant 2/2 Conv3D\\+NoMixer")
  message(FATAL_ERROR "vgt ablate: expected progress across variants on stderr, found:\n${last_error}")
endif()
foreach(file results.json report.md report.html loss.svg variants/FrameConv-NoMixer/checkpoint.safetensors
        variants/Conv3D-NoMixer/metrics.jsonl)
  if(NOT EXISTS "${WORK_DIR}/quick/${file}")
    message(FATAL_ERROR "vgt ablate: expected ${file} in the output directory, found none")
  endif()
endforeach()
file(READ "${WORK_DIR}/quick/results.json" results)
string(JSON steps GET "${results}" variants 1 steps)
string(JSON frames GET "${results}" variants 1 quality 0 frames)
string(JSON command GET "${results}" command)
if(NOT steps EQUAL 2 OR NOT frames EQUAL 2 OR NOT command MATCHES "--quick")
  message(FATAL_ERROR "results.json: expected 2 steps (the quick preset) scored at 2 frames, found ${steps} and ${frames}")
endif()
file(READ "${WORK_DIR}/quick/report.md" report)
if(NOT report MATCHES "`Conv3D\\+NoMixer`" OR NOT report MATCHES "## Quality at T = 2")
  message(FATAL_ERROR "report.md: expected both variants and the quality table, found:\n${report}")
endif()

# An unknown variant names the valid ones; a config naming a model is refused.
write_config("${WORK_DIR}/unknown.json" "\"FrameConv+NoMixer\", \"Conv4D\"")
run_vgt(FALSE ablate --config "${WORK_DIR}/unknown.json" --quick)
if(NOT last_error MATCHES "expected variants from the compiled list \\(FrameConv\\+NoMixer, .*found 'Conv4D'")
  message(FATAL_ERROR "vgt ablate with an unknown variant: expected the valid names, found:\n${last_error}")
endif()
file(WRITE "${WORK_DIR}/model.json" "{\"variants\": [\"Conv3D+NoMixer\"], \"train\": {\"model\": \"gen1\"}}")
run_vgt(FALSE ablate --config "${WORK_DIR}/model.json")
if(NOT last_error MATCHES "expected no train.model")
  message(FATAL_ERROR "vgt ablate with train.model: expected a refusal, found:\n${last_error}")
endif()
run_vgt(FALSE ablate --config "${WORK_DIR}/missing.json")
run_vgt(USAGE ablate)
run_vgt(USAGE ablate --config "${WORK_DIR}/ablation.json" --bogus)
