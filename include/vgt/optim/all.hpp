#pragma once
// The optimisation toolkit in one include: AdamW, the EMA of weights, the
// warm-up + cosine learning-rate schedule, gradient clipping, gradient
// accumulation, dynamic loss scaling and their JSON options.

#include "vgt/optim/adamw.hpp"
#include "vgt/optim/ema.hpp"
#include "vgt/optim/grad_accumulation.hpp"
#include "vgt/optim/grad_clip.hpp"
#include "vgt/optim/gradients.hpp"
#include "vgt/optim/loss_scaler.hpp"
#include "vgt/optim/lr_schedule.hpp"
#include "vgt/optim/named_state.hpp"
#include "vgt/optim/optim_config.hpp"
