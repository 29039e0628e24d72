#pragma once
// DDIM (Song et al. 2021, "Denoising diffusion implicit models", eq. 12 and 16):
//
//   x_s = α_s·x̂0 + √(σ_s² − c²)·ε̂ + c·z,   c = η·√(posterior variance t → s)
//
// where the posterior variance is DDPM's (ddpm.hpp); for a variance-preserving
// schedule c = η·√((1−ᾱ_s)/(1−ᾱ_t))·√(1−ᾱ_t/ᾱ_s), the paper's σ_t(η).
// η = 0 is deterministic (the probability-flow ODE's first-order solver);
// η = 1 gives DDPM's variance and, since x̂0 and ε̂ come from one output at
// x_t, exactly DDPM's step.

#include <algorithm>
#include <cmath>
#include <string_view>

#include "vgt/autograd/node.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/diffusion/ddpm.hpp"
#include "vgt/diffusion/denoiser.hpp"
#include "vgt/diffusion/noise_level.hpp"
#include "vgt/diffusion/objective.hpp"
#include "vgt/diffusion/sampler_step.hpp"
#include "vgt/diffusion/sampling_grid.hpp"
#include "vgt/ops/elementwise.hpp"

namespace vgt::diffusion {

namespace detail {
inline void check_eta(double eta, std::string_view op) {
    VGT_CHECK(eta >= 0.0 && eta <= 1.0, op, "expected eta in [0, 1], found {}", eta);
}
}  // namespace detail

/// c = η·√(posterior variance), the standard deviation of the step's fresh noise.
inline double ddim_noise_scale(NoiseLevel from, NoiseLevel to, double eta) {
    detail::check_eta(eta, "ddim");
    return eta * std::sqrt(posterior(from, to).variance);
}

/// One DDIM step from `from` to `to` given the predictions at `from`;
/// `noise` (standard normal) is read only when η·(posterior variance) > 0.
inline Tensor ddim_step(const Prediction& prediction, NoiseLevel from, NoiseLevel to, double eta, const Tensor& noise) {
    const double c = ddim_noise_scale(from, to, eta);
    const double eps_coef = std::sqrt(std::max(to.sigma * to.sigma - c * c, 0.0));
    Tensor x = add(mul(prediction.x0, to.alpha), mul(prediction.eps, eps_coef));
    if (c == 0.0) return x;
    VGT_CHECK(noise.defined() && noise.shape() == prediction.x0.shape(), "ddim_step",
              "expected noise of shape {}, found {}", prediction.x0.shape(), noise.str());
    return add(x, mul(noise, c));
}

/// DDIM from `noise` (x at grid[0]) down the grid. With η > 0 every step
/// but the last draws noise.numel() normal numbers from gen, in order;
/// with η = 0 gen is not touched.
inline Tensor ddim_sample(const Denoiser& model, const Tensor& noise, const SamplingGrid& grid, Objective prediction,
                          double eta, Generator& gen) {
    const char* op = "ddim";
    detail::check_start(noise, op);
    check_grid(grid, op);
    detail::check_eta(eta, op);
    NoGradGuard no_grad;
    const int steps = static_cast<int>(grid.size()) - 1;
    Tensor x = noise;
    for (int i = 0; i < steps; ++i) {
        const detail::SamplerStep step{op, i + 1, steps, &grid[i]};
        const Prediction p = step.predict(prediction, step.evaluate(model, x), x);
        const NoiseLevel from = grid[i].level, to = grid[i + 1].level;
        const Tensor z = ddim_noise_scale(from, to, eta) > 0.0 ? detail::step_noise(x, gen) : Tensor();
        x = ddim_step(p, from, to, eta, z);
    }
    return x;
}

}  // namespace vgt::diffusion
