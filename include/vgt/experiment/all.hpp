#pragma once
// Every experiment header: the train config, the text-to-video model, its
// checkpoints and the trainer.

#include "vgt/experiment/checkpoint.hpp"
#include "vgt/experiment/progress.hpp"
#include "vgt/experiment/text_to_video.hpp"
#include "vgt/experiment/train_config.hpp"
#include "vgt/experiment/trainer.hpp"
#include "vgt/experiment/unet_model.hpp"
#include "vgt/experiment/video_conditions.hpp"
