#pragma once
// Coefficients with one value per batch element (a timestep per sample in
// training) or one value for the whole batch (a sampler step), applied to
// tensors [B, ...]. Values are double; they meet the data in its dtype.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/device_copy.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::diffusion::detail {

/// Checks that `count` coefficients fit x: one for all, or one per element of dimension 0.
inline void check_per_sample(std::size_t count, const Tensor& x, std::string_view op) {
    VGT_CHECK(x.rank() >= 1, op, "expected a batch [B, ...] of rank at least 1, found shape {}", x.shape());
    VGT_CHECK(count == 1 || static_cast<std::int64_t>(count) == x.size(0), op,
              "expected 1 noise level or one per batch element ({}), found {}", x.size(0), count);
}

/// values as a tensor [B, 1, …, 1] of x's rank, dtype and device.
inline Tensor batch_column(std::span<const double> values, const Tensor& x) {
    Shape shape;
    shape.push_back(static_cast<std::int64_t>(values.size()));
    for (int d = 1; d < x.rank(); ++d) shape.push_back(1);
    const Tensor column = Tensor::from_vector(std::vector<double>(values.begin(), values.end()), shape);
    return to(to(column, x.dtype()), x.device());
}

/// a·x with one a per sample or one for all.
inline Tensor scale_per_sample(const Tensor& x, std::span<const double> a) {
    if (a.size() == 1) return mul(x, a[0]);
    return mul(x, batch_column(a, x));
}

/// a·x + b·y with one (a, b) per sample or one for all.
inline Tensor scaled_sum(const Tensor& x, std::span<const double> a, const Tensor& y, std::span<const double> b) {
    return add(scale_per_sample(x, a), scale_per_sample(y, b));
}

}  // namespace vgt::diffusion::detail
