#pragma once
// The one thing diffusion asks of a model: a callable
//
//   Tensor denoiser(const Tensor& x_t, const Tensor& time)
//
// with x_t [B, ...] and time [B] (x_t's dtype and device) holding each
// sample's timestep (a DDPM-style schedule: t ∈ {0 … N−1} as a number) or
// flow time (t ∈ [0, 1]); for videos with a flow time per frame
// (frame_lag.hpp), time [B, T]. It returns a tensor of x_t's shape that the
// caller reads under an Objective (epsilon, v, x0 or flow). Conditioning is
// captured by the callable (see guidance.hpp for guided sampling).

#include <functional>

#include "vgt/core/tensor.hpp"
#include "vgt/ops/device_copy.hpp"

namespace vgt::diffusion {

using Denoiser = std::function<Tensor(const Tensor& x_t, const Tensor& time)>;

namespace detail {

/// A time tensor [B] of x's dtype and device, every entry `time`.
inline Tensor time_column(const Tensor& x, double time) {
    return to(Tensor::full(Shape{x.size(0)}, time, x.dtype()), x.device());
}

}  // namespace detail

}  // namespace vgt::diffusion
