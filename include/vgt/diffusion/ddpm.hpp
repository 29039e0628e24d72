#pragma once
// DDPM ancestral sampling (Ho et al. 2020): each step draws x_s from the
// forward process's posterior q(x_s | x_t, x0) with x0 replaced by the
// model's prediction. Between any two levels t (noisier) and s of
// x = α·x0 + σ·ε (Kingma et al. 2021, "Variational diffusion models", appendix A):
//
//   α_{t|s} = α_t/α_s,   σ²_{t|s} = σ_t² − α_{t|s}²·σ_s²
//   mean     = (α_{t|s}·σ_s²/σ_t²)·x_t + (α_s·σ²_{t|s}/σ_t²)·x0
//   variance = σ²_{t|s}·σ_s²/σ_t²
//
// For a variance-preserving schedule and s = t − 1 this is Ho et al.'s
// μ̃_t = √ᾱ_{t−1}β_t/(1−ᾱ_t)·x0 + √α_t(1−ᾱ_{t−1})/(1−ᾱ_t)·x_t with variance
// β̃_t = (1−ᾱ_{t−1})/(1−ᾱ_t)·β_t ("fixed small"); for skipped timesteps
// it is the same with α_t replaced by ᾱ_t/ᾱ_s. The step to the clean end
// (σ_s = 0) has variance 0 and returns α_s·x0.

#include <algorithm>
#include <cmath>

#include "vgt/autograd/node.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/diffusion/denoiser.hpp"
#include "vgt/diffusion/noise_level.hpp"
#include "vgt/diffusion/objective.hpp"
#include "vgt/diffusion/sampler_step.hpp"
#include "vgt/diffusion/sampling_grid.hpp"
#include "vgt/ops/elementwise.hpp"

namespace vgt::diffusion {

/// q(x_s | x_t, x0) = N(x_t_coef·x_t + x0_coef·x0, variance).
struct Posterior {
    double x_t_coef = 0.0;
    double x0_coef = 0.0;
    double variance = 0.0;
};

/// The posterior from level `from` (t) to the less noisy level `to` (s):
/// requires σ_t > 0, α_s > 0 and α_t/σ_t < α_s/σ_s.
inline Posterior posterior(NoiseLevel from, NoiseLevel to) {
    VGT_CHECK(from.sigma > 0.0 && to.alpha > 0.0 && from.alpha * to.sigma < to.alpha * from.sigma, "posterior",
              "expected a step to a less noisy level (sigma_t > 0, alpha_s > 0, alpha_t/sigma_t < alpha_s/sigma_s), "
              "found (alpha {}, sigma {}) -> (alpha {}, sigma {})",
              from.alpha, from.sigma, to.alpha, to.sigma);
    const double a_ts = from.alpha / to.alpha;
    const double s2_t = from.sigma * from.sigma, s2_s = to.sigma * to.sigma;
    const double s2_ts = std::max(s2_t - a_ts * a_ts * s2_s, 0.0);
    return {a_ts * s2_s / s2_t, to.alpha * s2_ts / s2_t, s2_ts * s2_s / s2_t};
}

/// One ancestral step from x at `from` to `to`, given the model's x0
/// prediction and standard normal `noise` (unused, and may be undefined,
/// when the posterior variance is 0).
inline Tensor ddpm_step(const Tensor& x, const Tensor& x0, NoiseLevel from, NoiseLevel to, const Tensor& noise) {
    const Posterior p = posterior(from, to);
    Tensor mean = add(mul(x, p.x_t_coef), mul(x0, p.x0_coef));
    if (p.variance == 0.0) return mean;
    VGT_CHECK(noise.defined() && noise.shape() == x.shape(), "ddpm_step", "expected noise of shape {}, found {}",
              x.shape(), noise.str());
    return add(mean, mul(noise, std::sqrt(p.variance)));
}

/// DDPM from `noise` (x at grid[0]) down the grid; the model's output is read
/// as `prediction`. Each step with a positive posterior variance (all but
/// the last) draws noise.numel() normal numbers from gen, in order.
inline Tensor ddpm_sample(const Denoiser& model, const Tensor& noise, const SamplingGrid& grid, Objective prediction,
                          Generator& gen) {
    const char* op = "ddpm";
    detail::check_start(noise, op);
    check_grid(grid, op);
    NoGradGuard no_grad;
    const int steps = static_cast<int>(grid.size()) - 1;
    Tensor x = noise;
    for (int i = 0; i < steps; ++i) {
        const detail::SamplerStep step{op, i + 1, steps, &grid[i]};
        const Prediction p = step.predict(prediction, step.evaluate(model, x), x);
        const NoiseLevel from = grid[i].level, to = grid[i + 1].level;
        const Tensor z = posterior(from, to).variance > 0.0 ? detail::step_noise(x, gen) : Tensor();
        x = ddpm_step(x, p.x0, from, to, z);
    }
    return x;
}

}  // namespace vgt::diffusion
