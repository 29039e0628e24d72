#pragma once
// In-place work on the gradients that backward accumulated into the
// parameters' .grad(): visiting them by name, scaling them, and the
// reductions that clipping and loss scaling need. Reductions add in a fixed
// order (fixed-size blocks, summed in sequence), so a result does not depend
// on the number of threads and a resumed run reproduces it.

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "vgt/core/dispatch.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/optim/named_state.hpp"

namespace vgt::optim {

/// Calls f(name, gradient) for every parameter of `block` that requires a
/// gradient and has one; the gradient is the parameter's own .grad()
/// (contiguous, CPU, float32/float64), so writes to it change it.
template <nn::HasParameters Block, class F>
void for_each_gradient(Block& block, std::string_view op, F&& f) {
    for (auto& [name, p] : trainable_parameters(block)) {
        Tensor grad = detail::writable_grad(p);
        if (!grad.defined()) continue;
        detail::check_writable(op, "gradient of", name, grad);
        f(name, grad);
    }
}

namespace detail {

/// Elements per block of a deterministic reduction.
inline constexpr std::int64_t kReductionBlock = std::int64_t{1} << 15;

/// Σ x² over a contiguous float32/float64 tensor, accumulated in double.
inline double sum_of_squares(const Tensor& t) {
    const std::int64_t n = t.numel();
    const std::int64_t blocks = (n + kReductionBlock - 1) / kReductionBlock;
    std::vector<double> partial(static_cast<std::size_t>(blocks), 0.0);
    dispatch_floating(t, "sum_of_squares", [&]<class T>() {
        const T* x = t.data<T>();
        parallel_for(
            blocks,
            [&](std::int64_t b) {
                double s = 0;
                const std::int64_t end = std::min(n, (b + 1) * kReductionBlock);
                for (std::int64_t i = b * kReductionBlock; i < end; ++i) s += static_cast<double>(x[i]) * x[i];
                partial[static_cast<std::size_t>(b)] = s;
            },
            1);
    });
    double total = 0;
    for (const double s : partial) total += s;
    return total;
}

/// Whether every element of a contiguous float32/float64 tensor is finite.
inline bool all_finite(const Tensor& t) {
    std::atomic<bool> finite = true;
    dispatch_floating(t, "all_finite", [&]<class T>() {
        const T* x = t.data<T>();
        parallel_for_chunks(0, t.numel(), kReductionBlock, [&](std::int64_t lo, std::int64_t hi) {
            for (std::int64_t i = lo; i < hi; ++i)
                if (!std::isfinite(x[i])) {
                    finite = false;
                    return;
                }
        });
    });
    return finite;
}

/// x ← x · factor, the factor rounded to x's type.
inline void scale_in_place(const Tensor& t, double factor) {
    dispatch_floating(t, "scale_gradients", [&]<class T>() {
        T* x = t.data<T>();
        const T f = static_cast<T>(factor);
        parallel_for(t.numel(), [=](std::int64_t i) { x[i] *= f; }, 4096);
    });
}

}  // namespace detail

/// Multiplies every gradient of `block` by `factor` in place: 1/k after k
/// accumulated micro-batches, 1/scale after a scaled loss.
template <nn::HasParameters Block>
void scale_gradients(Block& block, double factor) {
    VGT_CHECK(std::isfinite(factor), "scale_gradients", "expected a finite factor, found {}", factor);
    for_each_gradient(block, "scale_gradients", [&](const std::string&, const Tensor& g) {
        detail::scale_in_place(g, factor);
    });
}

}  // namespace vgt::optim
