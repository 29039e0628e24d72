#pragma once
// DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++: fast solver for guided
// sampling of diffusion probabilistic models", algorithm 2): a multistep
// second-order solver of the probability-flow ODE written for the data
// prediction x̂0, in λ = log(α/σ). With h = λ_s − λ_t:
//
//   x_s = (σ_s/σ_t)·x_t − α_s·(e^{−h} − 1)·D
//   D   = x̂0_t                                          first step
//   D   = (1 + 1/(2r))·x̂0_t − 1/(2r)·x̂0_prev,  r = h_prev/h   later steps
//
// where x̂0_prev and h_prev = λ_t − λ_prev belong to the previous step. The
// step to the clean end (σ_s = 0, λ_s = ∞) is first order and returns
// α_s·x̂0_t, the limit of the update (as diffusers with
// final_sigmas_type="zero"). A previous step from pure noise (α = 0, λ = −∞)
// gives r = ∞, so the next step is first order too.

#include <cmath>

#include "vgt/autograd/node.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/diffusion/denoiser.hpp"
#include "vgt/diffusion/noise_level.hpp"
#include "vgt/diffusion/objective.hpp"
#include "vgt/diffusion/sampler_step.hpp"
#include "vgt/diffusion/sampling_grid.hpp"
#include "vgt/ops/elementwise.hpp"

namespace vgt::diffusion {

/// One DPM-Solver++(2M) step from x at `from` to `to`. x0: the data
/// prediction at `from`; previous_x0: the one at `previous`, the grid point
/// before `from` (leave it undefined for a first-order step).
inline Tensor dpm_solver_pp_2m_step(const Tensor& x, const Tensor& x0, NoiseLevel from, NoiseLevel to,
                                    const Tensor& previous_x0 = {}, NoiseLevel previous = {}) {
    const char* op = "dpm_solver_pp_2m_step";
    VGT_CHECK(from.sigma > 0.0 && to.alpha > 0.0 && from.alpha * to.sigma < to.alpha * from.sigma, op,
              "expected a step to a less noisy level, found (alpha {}, sigma {}) -> (alpha {}, sigma {})", from.alpha,
              from.sigma, to.alpha, to.sigma);
    if (to.sigma == 0.0) return mul(x0, to.alpha);
    // e^{−h} = (α_t/σ_t)·(σ_s/α_s) directly, which stays finite (0) at α_t = 0.
    const double exp_neg_h = (from.alpha * to.sigma) / (from.sigma * to.alpha);
    Tensor d = x0;
    if (previous_x0.defined()) {
        VGT_CHECK(previous_x0.shape() == x0.shape(), op, "expected a previous prediction of shape {}, found {}",
                  x0.shape(), previous_x0.shape());
        const double h = to.lambda() - from.lambda();
        const double h_prev = from.lambda() - previous.lambda();
        VGT_CHECK(!(h_prev <= 0.0), op, "expected the previous level to be noisier than `from`, found lambda {} then {}",
                  previous.lambda(), from.lambda());
        if (std::isfinite(h_prev)) {
            const double half_over_r = 0.5 * h / h_prev;
            d = sub(mul(x0, 1.0 + half_over_r), mul(previous_x0, half_over_r));
        }
    }
    return add(mul(x, to.sigma / from.sigma), mul(d, to.alpha * (1.0 - exp_neg_h)));
}

/// DPM-Solver++(2M) from `noise` (x at grid[0]) down the grid: deterministic,
/// one model evaluation per step.
inline Tensor dpm_solver_pp_2m_sample(const Denoiser& model, const Tensor& noise, const SamplingGrid& grid,
                                      Objective prediction) {
    const char* op = "dpm-solver++2m";
    detail::check_start(noise, op);
    check_grid(grid, op);
    NoGradGuard no_grad;
    const int steps = static_cast<int>(grid.size()) - 1;
    Tensor x = noise;
    Tensor previous_x0;
    NoiseLevel previous;
    for (int i = 0; i < steps; ++i) {
        const detail::SamplerStep step{op, i + 1, steps, &grid[i]};
        const Prediction p = step.predict(prediction, step.evaluate(model, x), x);
        x = dpm_solver_pp_2m_step(x, p.x0, grid[i].level, grid[i + 1].level, previous_x0, previous);
        previous_x0 = p.x0;
        previous = grid[i].level;
    }
    return x;
}

}  // namespace vgt::diffusion
