#pragma once
// Constant padding, with PyTorch's F.pad convention for the list of pads:
// (before, after) pairs starting from the last dimension.

#include <cstdint>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

namespace detail {
/// The region of a padded tensor that holds the original values.
inline Tensor pad_interior(const Tensor& padded, const std::vector<std::int64_t>& before, const Shape& original) {
    Tensor v = padded;
    for (int d = 0; d < original.rank(); ++d) v = slice(v, d, before[d], before[d] + original[d]);
    return v;
}
}  // namespace detail

/// Pads the trailing dimensions of x with `value`. `pads` holds
/// {last_before, last_after, second_last_before, second_last_after, ...}.
inline Tensor pad(const Tensor& x, const std::vector<std::int64_t>& pads, double value = 0.0) {
    VGT_CHECK(pads.size() % 2 == 0 && static_cast<int>(pads.size() / 2) <= x.rank(), "pad",
              "expected an even number of pads, at most 2 per dimension of {}, found {}", x.shape(), pads.size());
    for (std::int64_t p : pads) VGT_CHECK(p >= 0, "pad", "expected non-negative pads, found {}", p);
    Shape out_shape = x.shape();
    std::vector<std::int64_t> before(static_cast<std::size_t>(x.rank()), 0);
    for (std::size_t i = 0; i < pads.size() / 2; ++i) {
        const int d = x.rank() - 1 - static_cast<int>(i);
        before[d] = pads[2 * i];
        out_shape[d] += pads[2 * i] + pads[2 * i + 1];
    }
    Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
    out.fill_(value);
    {
        NoGradGuard no_grad;
        detail::copy_strided(detail::pad_interior(out, before, x.shape()), x);
    }
    const Shape in_shape = x.shape();
    return autograd::record(out, "pad", {x}, [before, in_shape](const Tensor& g) {
        return std::vector<Tensor>{detail::pad_interior(g, before, in_shape)};
    });
}

}  // namespace vgt
