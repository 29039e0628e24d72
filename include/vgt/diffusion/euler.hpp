#pragma once
// Euler's method on the rectified-flow ODE dx/dt = v(x, t) (Liu et al.
// 2022; Lipman et al. 2022), from t = 1 (noise) to t = 0 (data):
//
//   x_{t'} = x_t + (t' − t)·v̂,   v̂ = ε̂ − x̂0
//
// On a flow grid (α = 1 − t, σ = t) v̂ is a flow model's output itself; a
// model trained for another objective is read through predict() first.
// Written in x̂0 and ε̂ the step is x_{t'} = (1 − t')·x̂0 + t'·ε̂, DDIM's
// deterministic update on the same grid.

#include <cmath>

#include "vgt/autograd/node.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/diffusion/denoiser.hpp"
#include "vgt/diffusion/objective.hpp"
#include "vgt/diffusion/sampler_step.hpp"
#include "vgt/diffusion/sampling_grid.hpp"
#include "vgt/ops/elementwise.hpp"

namespace vgt::diffusion {

/// One Euler step from flow time t to t_next with velocity v̂.
inline Tensor euler_step(const Tensor& x, const Tensor& velocity, double t, double t_next) {
    VGT_CHECK(velocity.shape() == x.shape(), "euler_step", "expected a velocity of shape {}, found {}", x.shape(),
              velocity.shape());
    return add(x, mul(velocity, t_next - t));
}

/// Euler from `noise` down a flow grid (flow_grid(): time t, α = 1 − t, σ = t).
inline Tensor euler_sample(const Denoiser& model, const Tensor& noise, const SamplingGrid& grid,
                           Objective prediction = Objective::flow) {
    const char* op = "euler";
    detail::check_start(noise, op);
    check_grid(grid, op);
    for (std::size_t i = 0; i < grid.size(); ++i) {
        const GridPoint& g = grid[i];
        VGT_CHECK(g.time == g.level.sigma && std::abs(g.level.alpha + g.level.sigma - 1.0) <= 1e-12, op,
                  "expected a rectified-flow grid (time t, alpha = 1 - t, sigma = t; see flow_grid), found time {}, "
                  "alpha {}, sigma {} at point {}",
                  g.time, g.level.alpha, g.level.sigma, i);
    }
    NoGradGuard no_grad;
    const int steps = static_cast<int>(grid.size()) - 1;
    Tensor x = noise;
    for (int i = 0; i < steps; ++i) {
        const detail::SamplerStep step{op, i + 1, steps, &grid[i]};
        const Tensor out = step.evaluate(model, x);
        Tensor velocity = out;
        if (prediction != Objective::flow) {
            const Prediction p = step.predict(prediction, out, x);
            velocity = sub(p.eps, p.x0);
        }
        x = euler_step(x, velocity, grid[i].time, grid[i + 1].time);
    }
    return x;
}

}  // namespace vgt::diffusion
