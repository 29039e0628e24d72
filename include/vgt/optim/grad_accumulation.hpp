#pragma once
// Gradient accumulation: one optimiser step from k micro-batches, for a
// batch that does not fit in memory at once. backward() adds into each
// leaf's .grad(), so k backward passes sum their gradients; scaling each
// micro-batch's mean loss by 1/k makes the sum the gradient of the mean
// loss over all k·b samples (equal micro-batch sizes b), i.e. what one
// batch of k·b would give, up to rounding.

#include <cmath>
#include <concepts>
#include <cstdint>
#include <string>
#include <utility>

#include "vgt/autograd/backward.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/elementwise.hpp"

namespace vgt::optim {

/// Clears the gradients of `block`, then for i = 0 … micro_batches − 1 runs
/// backward on loss_of(i) · loss_scale / micro_batches, where loss_of(i)
/// returns micro-batch i's mean loss (one element). loss_scale is a dynamic
/// loss scaler's scale (1 without one). Returns the mean of the unscaled
/// losses. Graphs are freed micro-batch by micro-batch.
template <nn::HasParameters Block, class MicroBatchLoss>
    requires std::invocable<MicroBatchLoss&, std::int64_t>
double accumulate_gradients(Block& block, std::int64_t micro_batches, MicroBatchLoss&& loss_of,
                            double loss_scale = 1.0) {
    constexpr const char* op = "accumulate_gradients";
    VGT_CHECK(micro_batches >= 1, op, "expected at least one micro-batch, found {}", micro_batches);
    VGT_CHECK(std::isfinite(loss_scale) && loss_scale > 0, op, "expected a loss scale > 0, found {}", loss_scale);
    nn::zero_grad(block);
    const double multiplier = loss_scale / static_cast<double>(micro_batches);
    double total = 0;
    for (std::int64_t i = 0; i < micro_batches; ++i) {
        const Tensor loss = loss_of(i);
        VGT_CHECK(loss.defined() && loss.numel() == 1, op,
                  "micro-batch {}: expected a loss with one element, found {}", i,
                  loss.defined() ? loss.str() : std::string("an empty handle"));
        total += loss.item();
        backward(multiplier == 1.0 ? loss : mul(loss, multiplier));
    }
    return total / static_cast<double>(micro_batches);
}

}  // namespace vgt::optim
