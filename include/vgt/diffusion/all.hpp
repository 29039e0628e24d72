#pragma once
// Every diffusion header: schedules, objectives, the training loss,
// samplers, guidance and conditioning dropout.

#include "vgt/diffusion/condition_dropout.hpp"
#include "vgt/diffusion/ddim.hpp"
#include "vgt/diffusion/ddpm.hpp"
#include "vgt/diffusion/denoiser.hpp"
#include "vgt/diffusion/dpm_solver.hpp"
#include "vgt/diffusion/euler.hpp"
#include "vgt/diffusion/frame_lag.hpp"
#include "vgt/diffusion/guidance.hpp"
#include "vgt/diffusion/noise_level.hpp"
#include "vgt/diffusion/objective.hpp"
#include "vgt/diffusion/per_sample.hpp"
#include "vgt/diffusion/sampler.hpp"
#include "vgt/diffusion/sampler_step.hpp"
#include "vgt/diffusion/sampling_grid.hpp"
#include "vgt/diffusion/schedule.hpp"
#include "vgt/diffusion/training_loss.hpp"
