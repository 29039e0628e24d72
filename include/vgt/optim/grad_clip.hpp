#pragma once
// Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_:
// the norm is taken over all gradients as one vector,
//
//   ‖g‖ = √(Σ_parameters Σ_elements g²),
//
// and when ‖g‖ > max_norm every gradient is multiplied by
// max_norm / (‖g‖ + 10⁻⁶). Squares are summed in double.
//
// A non-finite norm is an error here, not a flag: with dynamic loss scaling
// the scaler has already skipped steps whose gradients overflowed (see
// loss_scaler.hpp), so a NaN or Inf that reaches clipping means training
// diverged. clip_grad_norm then throws a vgt::Error naming the first
// parameter whose gradient is not finite, before it changes any gradient;
// grad_norm() reports the same without throwing.

#include <cmath>
#include <string>

#include "vgt/core/error.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/optim/gradients.hpp"

namespace vgt::optim {

/// The global gradient norm, and where it stopped being finite.
struct GradNorm {
    double norm = 0;               // ‖g‖ over every gradient (0 when there are none)
    std::string first_non_finite;  // the first parameter (in visiting order) with a non-finite gradient
    bool finite() const { return first_non_finite.empty(); }
};

/// ‖g‖ over the gradients of the trainable parameters of `block`.
template <nn::HasParameters Block>
GradNorm grad_norm(Block& block) {
    GradNorm out;
    double total = 0;
    for_each_gradient(block, "grad_norm", [&](const std::string& name, const Tensor& g) {
        const double squares = detail::sum_of_squares(g);
        if (!std::isfinite(squares) && !detail::all_finite(g) && out.first_non_finite.empty())
            out.first_non_finite = name;
        total += squares;
    });
    out.norm = std::sqrt(total);
    return out;
}

/// Scales the gradients of `block` so that their global norm is at most
/// `max_norm`, and returns the norm they had before. A non-finite gradient
/// is a vgt::Error naming its parameter (gradients unchanged).
template <nn::HasParameters Block>
double clip_grad_norm(Block& block, double max_norm) {
    constexpr const char* op = "clip_grad_norm";
    VGT_CHECK(std::isfinite(max_norm) && max_norm > 0, op, "expected max_norm > 0, found {}", max_norm);
    const GradNorm measured = grad_norm(block);
    VGT_CHECK(measured.finite(), op,
              "expected finite gradients, found a non-finite gradient in parameter '{}' (norm {}): training "
              "diverged (lower the learning rate, or enable loss scaling for half precision)",
              measured.first_non_finite, measured.norm);
    VGT_CHECK(std::isfinite(measured.norm), op,
              "expected a finite gradient norm, found {} from finite gradients too large to square in double",
              measured.norm);
    const double coefficient = max_norm / (measured.norm + 1e-6);
    if (coefficient < 1.0) scale_gradients(block, coefficient);
    return measured.norm;
}

}  // namespace vgt::optim
