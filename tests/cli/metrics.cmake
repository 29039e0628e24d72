# `vgt data preview`, `vgt flow` and `vgt metrics` end to end: a MovingShapes
# clip from `vgt data preview`, its flow, and its metrics against its own
# caption (near perfect) and against a wrong one; bad input must fail with a
# message, not a crash.
#   cmake -DVGT=<vgt program> -DWORK_DIR=<dir> [-DWITH_FFMPEG=ON] -P metrics.cmake

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

include("${CMAKE_CURRENT_LIST_DIR}/run_vgt.cmake")

set(clip "${WORK_DIR}/clip.npy")
run_vgt(TRUE data preview --dataset moving-shapes --count 1 --out "${clip}")
if(NOT last_output MATCHES "0: ([^\n]+)")
  message(FATAL_ERROR "data preview: expected the clip's caption in its output, found '${last_output}'")
endif()
set(caption "${CMAKE_MATCH_1}")

# Its own caption: every attribute found, the objects steady. The video may
# also come first, without --video.
run_vgt(TRUE metrics "${clip}" --prompt "${caption}" --json)
foreach(key IN ITEMS caption_accuracy colour_accuracy shape_accuracy count_consistency count_accuracy)
  string(JSON value GET "${last_output}" shapes ${key})
  if(NOT value MATCHES "^1(\\.0*)?$")
    message(FATAL_ERROR "metrics of a ground-truth clip against '${caption}': expected ${key} 1, found ${value}")
  endif()
endforeach()
string(JSON flicker GET "${last_output}" temporal_consistency mean)
if(NOT flicker LESS 0.01)
  message(FATAL_ERROR "metrics of a ground-truth clip: expected a warping error under 0.01, found ${flicker}")
endif()

# A caption in another colour and shape: nothing matches.
string(REGEX MATCH "(red|green|blue|yellow|cyan|magenta|orange|white) (circle|square|triangle)" first "${caption}")
if(first STREQUAL "")
  message(FATAL_ERROR "expected a colour and a shape in the caption, found '${caption}'")
endif()
set(other "a white diamond moving left")
if(first MATCHES "^white")
  set(other "a red diamond moving left")
endif()
run_vgt(TRUE metrics --video "${clip}" --prompt "${other}" --json)
string(JSON value GET "${last_output}" shapes caption_accuracy)
if(NOT value MATCHES "^0(\\.0*)?$")
  message(FATAL_ERROR "metrics against '${other}': expected caption_accuracy 0, found ${value}")
endif()

# Text output names the metrics.
run_vgt(TRUE metrics --video "${clip}" --prompt "${caption}" --flow lk)
if(NOT last_output MATCHES "caption accuracy 1.000" OR NOT last_output MATCHES "temporal consistency")
  message(FATAL_ERROR "metrics text output: expected the caption accuracy and temporal consistency, found '${last_output}'")
endif()

# Bad input: a message, exit status 1.
run_vgt(FALSE metrics --video "${WORK_DIR}/missing.npy")
run_vgt(FALSE metrics --video "${clip}" --prompt "a purple dodecahedron")
if(NOT last_error MATCHES "circle")
  message(FATAL_ERROR "unknown prompt: expected the known shapes in the message, found '${last_error}'")
endif()
run_vgt(FALSE metrics --video "${clip}" --flow farneback)
run_vgt(USAGE metrics --video "${clip}" --unknown 1)
file(WRITE "${WORK_DIR}/not_a_video.npy" "this is not an npy file")
run_vgt(FALSE metrics --video "${WORK_DIR}/not_a_video.npy")

# The preview as a PNG strip, and as a GIF where FFmpeg is built in.
run_vgt(TRUE data preview --dataset moving-shapes --count 2 --frames 4 --size 32 --out "${WORK_DIR}/strip.png")
file(READ "${WORK_DIR}/strip.png" png_magic LIMIT 4 HEX)
if(NOT png_magic STREQUAL "89504e47")
  message(FATAL_ERROR "data preview --out strip.png: expected a PNG file, found bytes ${png_magic}")
endif()
run_vgt(FALSE data preview --dataset imagenet --out "${WORK_DIR}/x.png")
if(NOT last_error MATCHES "moving-shapes")
  message(FATAL_ERROR "unknown data set: expected the known ones in the message, found '${last_error}'")
endif()
run_vgt(USAGE data preview --out "${WORK_DIR}/x.png" --count 0)

# The same data set from a JSON data config; a misspelt key is an error naming it.
file(WRITE "${WORK_DIR}/data.json" [[{"dataset": "moving-shapes", "moving_shapes": {"frames": 3, "height": 24, "width": 40, "min_size": 4, "max_size": 8}}]])
run_vgt(TRUE data preview --config "${WORK_DIR}/data.json" --count 2 --out "${WORK_DIR}/config.npy")
if(NOT last_output MATCHES "2 clips of 3 frames, 40x24")
  message(FATAL_ERROR "data preview --config: expected 2 clips of 3 frames, 40x24, found '${last_output}'")
endif()
file(WRITE "${WORK_DIR}/typo.json" [[{"moving_shapes": {"frams": 3}}]])
run_vgt(FALSE data preview --config "${WORK_DIR}/typo.json" --out "${WORK_DIR}/x.png")
if(NOT last_error MATCHES "unknown key 'frams'")
  message(FATAL_ERROR "data config with a typo: expected the unknown key named, found '${last_error}'")
endif()
run_vgt(FALSE data preview --config "${WORK_DIR}/data.json" --frames 4 --out "${WORK_DIR}/x.png")

# Flow of the clip: T − 1 fields of the clip's size, small where nothing moves
# and at most a few pixels where the shapes do.
run_vgt(TRUE flow "${clip}" --out "${WORK_DIR}/flow.npy" --threads 2)
if(NOT last_output MATCHES "15 frame pairs of 64x64")
  message(FATAL_ERROR "vgt flow: expected 15 frame pairs of 64x64, found '${last_output}'")
endif()
file(READ "${WORK_DIR}/flow.npy" npy_header OFFSET 10 LIMIT 100)  # past the magic and the length
if(NOT npy_header MATCHES "'shape': \\(15, 2, 64, 64\\)")
  message(FATAL_ERROR "vgt flow: expected an .npy of shape (15, 2, 64, 64), found header '${npy_header}'")
endif()
run_vgt(FALSE flow "${clip}" --out "${WORK_DIR}/flow.npy" --method magic)
run_vgt(FALSE flow "${WORK_DIR}/missing.mp4" --out "${WORK_DIR}/flow.gif")
run_vgt(USAGE flow "${clip}")
if(WITH_FFMPEG)
  run_vgt(TRUE data preview --dataset moving-shapes --count 2 --frames 4 --size 32 --out "${WORK_DIR}/preview.gif")
  run_vgt(TRUE flow "${clip}" --out "${WORK_DIR}/flow.gif" --method lk)
  foreach(gif IN ITEMS preview.gif flow.gif)
    file(READ "${WORK_DIR}/${gif}" gif_magic LIMIT 6 HEX)
    if(NOT gif_magic STREQUAL "474946383961")  # GIF89a
      message(FATAL_ERROR "expected ${gif} to be a GIF, found '${gif_magic}'")
    endif()
  endforeach()
  run_vgt(TRUE metrics "${WORK_DIR}/preview.gif")
endif()
