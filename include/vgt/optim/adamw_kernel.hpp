#pragma once
// The element-wise body of one AdamW step (optim/adamw.hpp), run on CPU
// threads and as a CUDA grid (cuda/backend.cu). Includes nothing that CUDA
// units cannot.

#include <cmath>
#include <cstdint>

#include "vgt/core/macros.hpp"

namespace vgt::optim::kernels {

/// One AdamW step of one element. Scalars arrive as T, rounded from double
/// as PyTorch rounds Python floats, and the operations run in PyTorch's
/// order, so float32 results agree with it to rounding.
template <class T>
struct AdamWUpdate {
    T* param;
    const T* grad;
    T* exp_avg;
    T* exp_avg_sq;
    T* max_exp_avg_sq;  // null without amsgrad
    T decay_factor;     // 1 − lr·λ
    T beta1, one_minus_beta1, beta2, one_minus_beta2;
    T bias_correction2_sqrt;
    T eps;
    T neg_step_size;  // −lr / (1 − β₁ᵗ)

    VGT_HOST_DEVICE void operator()(std::int64_t i) const {
        const T g = grad[i];
        const T p = param[i] * decay_factor;
        const T m = exp_avg[i] * beta1 + one_minus_beta1 * g;
        const T v = exp_avg_sq[i] * beta2 + one_minus_beta2 * g * g;
        T v_hat = v;
        if (max_exp_avg_sq) {
            v_hat = max_exp_avg_sq[i] > v ? max_exp_avg_sq[i] : v;
            max_exp_avg_sq[i] = v_hat;
        }
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        const T denom = std::sqrt(v_hat) / bias_correction2_sqrt + eps;
        param[i] = p + neg_step_size * m / denom;
    }
};

}  // namespace vgt::optim::kernels
