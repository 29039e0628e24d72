#pragma once
// Every experiment header: the train config, the text-to-video model, its
// checkpoints and the trainer; frame prediction; ablations and their
// reports. (builtin_variants.hpp, the list `vgt ablate` is compiled with, is
// left to those who want it: instantiating it compiles every variant.)

#include "vgt/experiment/ablation.hpp"
#include "vgt/experiment/ablation_config.hpp"
#include "vgt/experiment/ablation_report.hpp"
#include "vgt/experiment/ablation_variant.hpp"
#include "vgt/experiment/caption_probe.hpp"
#include "vgt/experiment/checkpoint.hpp"
#include "vgt/experiment/frame_prediction.hpp"
#include "vgt/experiment/prediction_run.hpp"
#include "vgt/experiment/progress.hpp"
#include "vgt/experiment/shape_prompt_evaluation.hpp"
#include "vgt/experiment/text_to_video.hpp"
#include "vgt/experiment/train_config.hpp"
#include "vgt/experiment/trainer.hpp"
#include "vgt/experiment/unet_model.hpp"
#include "vgt/experiment/video_conditions.hpp"
